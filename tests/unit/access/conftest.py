from collections.abc import Iterator

import pytest

from mrc_access.domain import client_secret


@pytest.fixture(autouse=True)
def cheaper_secret_hashing() -> Iterator[None]:
    """scrypt at full cost takes ~80 ms a hash; tests use a lower cost unless they set it back.

    The cost is stored in each hash, so verification follows whatever cost a hash was made with.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(client_secret, "SCRYPT_N", 2**8)
        yield
