"""Request ids: the caller's `X-Request-Id` (REST header, gRPC metadata) when it is a plausible id, else a new one.

The id is logged, returned in a header and named in 500 answers, so a caller's value is used only when it
is short and plain; anything else (a megabyte, control characters) is replaced rather than echoed.
"""

from __future__ import annotations

import re
import uuid

_PLAIN_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_from(value: object) -> str:
    return value if isinstance(value, str) and _PLAIN_ID.match(value) else str(uuid.uuid4())
