from mrc_kernel.idempotency import request_fingerprint, scoped_key


def test_fingerprint_ignores_key_order_but_not_values() -> None:
    assert request_fingerprint({"a": 1, "b": [1, 2]}) == request_fingerprint({"b": [1, 2], "a": 1})
    assert request_fingerprint({"a": 1}) != request_fingerprint({"a": 2})


def test_keys_are_scoped_to_the_caller() -> None:
    assert scoped_key("partner-a", "1") != scoped_key("partner-b", "1")


def test_fingerprint_does_not_depend_on_set_order() -> None:
    import subprocess
    import sys

    code = (
        "from mrc_kernel.idempotency import request_fingerprint;"
        "print(request_fingerprint({'purposes': frozenset({'registration', 'entitlement_linkage', 'sharing'})}))"
    )
    prints = {
        subprocess.run(
            [sys.executable, "-c", code], env={"PYTHONHASHSEED": str(seed)}, capture_output=True, text=True, check=True
        ).stdout
        for seed in range(6)
    }
    assert len(prints) == 1
