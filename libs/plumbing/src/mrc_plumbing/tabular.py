"""Tables uploaded by partners (field surveys, wage registers): CSV or XLSX in, rows of text out; and
problem reports written back as CSV that a spreadsheet opens safely.

Reading: the first row holds the headers (trimmed, lower-cased, spaces and hyphens as `_`); blank rows
are skipped but counted, so row numbers are those a spreadsheet shows. CSV must be UTF-8 (a BOM is
fine: Excel's "CSV UTF-8" writes one). XLSX is read from its first sheet, values as last calculated.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import openpyxl

# An XLSX is a zip of XML: refuse archives that unpack to far more than any survey needs (zip bombs).
MAX_XLSX_UNPACKED_BYTES = 256 * 1024 * 1024
_XLSX_MAGIC = b"PK\x03\x04"
_HEADER_SEPARATORS = re.compile(r"[\s\-]+")


class TableError(ValueError):
    """The file cannot be read as a table; the message says why, never quoting a cell."""


@dataclass(frozen=True)
class Table:
    """A survey as read: normalised headers, and data rows as (spreadsheet row number, cells)."""

    headers: tuple[str, ...]
    rows: Sequence[tuple[int, tuple[str, ...]]]

    @property
    def row_count(self) -> int:
        return len(self.rows)


def normalise_header(name: str) -> str:
    return _HEADER_SEPARATORS.sub("_", name.strip().lower())


def read_table(file_name: str, content: bytes, max_rows: int) -> Table:
    """The table in a CSV or XLSX file (told apart by content, not name); TableError if unreadable
    or longer than `max_rows` data rows."""
    if file_name.lower().endswith(".xls") or content.startswith(b"\xd0\xcf\x11\xe0"):
        raise TableError("old Excel (.xls) files are not read: save the sheet as .xlsx or as CSV UTF-8")
    rows = _xlsx_rows(content) if content.startswith(_XLSX_MAGIC) else _csv_rows(content)
    try:
        header_number, header = next(rows)
    except StopIteration:
        raise TableError("the file is empty: the first row must hold the column headers") from None
    if header_number != 1:
        raise TableError("the first row must hold the column headers")
    data: list[tuple[int, tuple[str, ...]]] = []
    for number, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        if len(data) >= max_rows:
            raise TableError(f"the file has more than {max_rows:,} rows: split it")
        data.append((number, cells))
    return Table(tuple(normalise_header(h) for h in header), data)


def _csv_rows(content: bytes) -> Iterator[tuple[int, tuple[str, ...]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError(f"the file is not UTF-8 text (byte {exc.start}): save it as 'CSV UTF-8' or as .xlsx") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0
    try:
        for record in reader:
            number += 1
            yield number, tuple(record)
    except csv.Error as exc:
        raise TableError(f"row {number + 1} is not valid CSV: {exc}") from None


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, tuple[str, ...]]]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise TableError("the file looks like XLSX but is not a valid one") from None
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise TableError("the workbook unpacks to too much data: save the sheet as CSV UTF-8")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (KeyError, InvalidFileException, XML errors)
        raise TableError("the file looks like XLSX but cannot be opened as a workbook") from None
    try:
        if not workbook.worksheets:
            raise TableError("the workbook has no sheet")
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the stored dimensions may be wrong; read every row there is
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, tuple(_cell_text(value) for value in values)
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    """A cell as the text a registrar typed: 9876543210 and 1988 without '.0', dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# A cell starting with one of these is run as a formula by spreadsheets (CSV injection).
_SPREADSHEET_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """A report cell that a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text.startswith(_SPREADSHEET_FORMULA) else text


def report_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV report (CRLF line ends, as spreadsheets expect); text cells are made formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(cell) if isinstance(cell, str) else cell for cell in row])
    return out.getvalue()
