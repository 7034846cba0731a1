import pytest

from mrc_kernel.privacy import suppress_small_cells


def test_small_cells_are_suppressed_and_the_total_with_them() -> None:
    safe = suppress_small_cells({"212": 40, "213": 3, "214": 0, "215": 5})
    assert safe.cells == {"212": 40, "213": None, "214": 0, "215": 5}
    assert safe.total is None  # 48 - 45 would reveal the 3


def test_nothing_suppressed_gives_the_exact_total() -> None:
    safe = suppress_small_cells({"a": 10, "b": 7}, min_cell_size=5)
    assert safe.total == 17


def test_k_is_configurable_and_must_be_positive() -> None:
    assert suppress_small_cells({"a": 9}, min_cell_size=10).cells == {"a": None}
    with pytest.raises(ValueError, match="at least 1"):
        suppress_small_cells({"a": 1}, min_cell_size=0)
