from mrc_plumbing.idempotency import request_fingerprint, scoped_key


def test_fingerprint_ignores_key_order_but_not_values() -> None:
    assert request_fingerprint({"a": 1, "b": [1, 2]}) == request_fingerprint({"b": [1, 2], "a": 1})
    assert request_fingerprint({"a": 1}) != request_fingerprint({"a": 2})


def test_keys_are_scoped_to_the_caller() -> None:
    assert scoped_key("partner-a", "1") != scoped_key("partner-b", "1")
