"""Embedded local MRC platform: Kafka (KRaft), FerretDB (SQLite) and the four services.

Command line: ``uv run mrc-dev --help``. Python API (used by the tests): :class:`mrc_devstack.stack.Stack`.
"""

from mrc_devstack.stack import ComponentStatus, Stack, StackError

__all__ = ["ComponentStatus", "Stack", "StackError"]
