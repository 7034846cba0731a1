from mrc_geography import lgd


def test_reference_data_is_complete() -> None:
    data = lgd()
    assert len(data.states) == 36
    assert len(data.districts) == 763
    assert data.states["10"].name == "Bihar"


def test_valid_place_has_no_errors() -> None:
    assert lgd().location_errors("10", "212") == {}  # Patna, Bihar


def test_errors_name_the_offending_field() -> None:
    assert set(lgd().location_errors("99", "212")) == {"state_code"}
    assert "not in state" in lgd().location_errors("10", "99")["district_code"]  # Dungarpur is in Rajasthan
    assert set(lgd().location_errors("10", "212", "1")) == {"subdistrict_code"}
