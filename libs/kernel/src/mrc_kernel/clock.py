"""Time as the store keeps it: BSON dates hold milliseconds, so we never hand out finer ones.

Otherwise a first response and its idempotent replay (read back from the store) would differ.
"""

from datetime import UTC, datetime


def utc_now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
