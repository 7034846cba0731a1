"""Reading one uploaded file (multipart/form-data) with a hard limit on what the client may send."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message

from mrc_kernel.errors import FileTooLarge, InvalidArgument

# What a multipart envelope may add to the file itself (boundaries, part headers, a few small fields).
ENVELOPE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Upload:
    file_name: str  # the base name the client gave, never a path
    content: bytes  # at most the file limit + 1 byte: the use case tells a file over the limit
    fields: dict[str, str] = field(default_factory=dict)  # the other form fields asked for, "" when absent


async def read_upload(
    request: Request, *, max_file_bytes: int, what: str, fields: Sequence[str] = (), max_field_length: int = 64
) -> Upload:
    """The file in the form field `file` (and the named text fields); `what` names the file in errors."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidArgument.for_field("file", f"upload the {what} as multipart/form-data, in a field named 'file'")
    try:
        async with _limited(request, max_file_bytes).form(max_files=1, max_fields=8) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InvalidArgument.for_field("file", f"upload the {what} in a multipart field named 'file'")
            values: dict[str, str] = {}
            for name in fields:
                value = form.get(name) or ""
                if not isinstance(value, str) or len(value) > max_field_length:
                    raise InvalidArgument.for_field(name, f"must be text of at most {max_field_length} characters")
                values[name] = value
            content = await upload.read(max_file_bytes + 1)
            return Upload(PurePosixPath(upload.filename or "upload").name, content, values)
    except ClientDisconnect:
        raise InvalidArgument.for_field("file", "the upload was interrupted") from None
    except FileTooLarge:
        raise
    except (ValueError, KeyError) as exc:  # malformed multipart, too many parts; never echo what was sent
        raise InvalidArgument.for_field("file", f"not a valid multipart upload: {type(exc).__name__}") from None


def _limited(request: Request, max_file_bytes: int) -> Request:
    """The same request, whose body stops with FileTooLarge once more than the file and its envelope arrived:
    a client cannot make the server buffer a body of any size."""
    received, limit = 0, max_file_bytes + ENVELOPE_BYTES

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise FileTooLarge(f"uploads are limited to {max_file_bytes // (1024 * 1024)} MiB: split the file")
        return message

    return Request(request.scope, receive)
