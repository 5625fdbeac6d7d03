"""CSV and JSON file drops -> canonical rows, row by row, with a reason for each bad row.

A file drop is a report exported from a platform without an API connection. The
registry declares, per account, the file format and which column holds each
canonical field (``columns``: ``date``, ``campaign_id``, ``campaign_name``,
``spend``, ``impressions``, ``clicks``, ``conversions``, ``conversion_value``;
``date``, ``campaign_id`` and ``spend`` are required, a missing optional field is
zero). A good row becomes ``{"line", "date", "campaign_id", "campaign_name",
"spend", ..., "source": {the row as written}}`` with money as exact decimal
strings; a bad row is reported with its line number (CSV: the physical line, the
header being line 1; JSON: the record's position, from 1) and the reason. A file
that cannot be read at all (not UTF-8, not valid JSON, mapped columns missing) is
rejected whole.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

REPORT = "performance"
REQUIRED_FIELDS = ("date", "campaign_id", "spend")
OPTIONAL_FIELDS = ("campaign_name", "impressions", "clicks", "conversions", "conversion_value")
FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
COUNT_FIELDS = ("impressions", "clicks")
DECIMAL_FIELDS = ("spend", "conversions", "conversion_value")
FORMATS = ("csv", "json")


@dataclass(frozen=True)
class FileDropFormat:
    """How one account's files are written: format, column per canonical field, date format."""

    format: str
    columns: dict[str, str]
    date_format: str = "%Y-%m-%d"
    delimiter: str = ","

    def to_dict(self) -> dict:
        return {"format": self.format, "columns": dict(self.columns), "date_format": self.date_format, "delimiter": self.delimiter}

    @classmethod
    def from_dict(cls, data: dict) -> FileDropFormat:
        return cls(data["format"], dict(data["columns"]), data.get("date_format", "%Y-%m-%d"), data.get("delimiter", ","))


@dataclass(frozen=True)
class BadRow:
    line_number: int
    reason: str
    raw: str


@dataclass
class ParsedFile:
    name: str
    rows: list[dict] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
    error: str | None = None  # the whole file is unreadable

    @property
    def days(self) -> list[date]:
        return sorted({date.fromisoformat(r["date"]) for r in self.rows})


class FileRejected(ValueError):
    """The file cannot be read at all; the message says why."""


def _decimal(value: object, name: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return "0"
    if isinstance(value, bool):
        raise ValueError(f"{name} {value!r} is not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{name} {value!r} is not a number") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"{name} {value!r} is not a non-negative number")
    return str(number)


def _count(value: object, name: str) -> int:
    text = _decimal(value, name)
    number = Decimal(text)
    if number != number.to_integral_value():
        raise ValueError(f"{name} {value!r} is not a whole number")
    return int(number)


def canonical_row(record: dict, spec: FileDropFormat, line_number: int) -> dict:
    """One source row in canonical form; ValueError naming the field when it is bad."""
    columns = spec.columns

    def get(name: str) -> object:
        column = columns.get(name)
        return record.get(column) if column else None

    raw_date = get("date")
    if raw_date is None or not str(raw_date).strip():
        raise ValueError(f"date (column {columns['date']!r}) is empty")
    try:
        day = datetime.strptime(str(raw_date).strip(), spec.date_format).date()
    except ValueError:
        raise ValueError(f"date {raw_date!r} does not match {spec.date_format}") from None
    campaign_id = get("campaign_id")
    if campaign_id is None or not str(campaign_id).strip():
        raise ValueError(f"campaign_id (column {columns['campaign_id']!r}) is empty")
    row: dict = {"line": line_number, "date": day.isoformat(), "campaign_id": str(campaign_id).strip()}
    name = get("campaign_name")
    row["campaign_name"] = str(name).strip() if name is not None and str(name).strip() else None
    for f in DECIMAL_FIELDS:
        row[f] = _decimal(get(f), f)
    for f in COUNT_FIELDS:
        row[f] = _count(get(f), f)
    row["source"] = record
    return row


def _records(name: str, content: bytes, spec: FileDropFormat) -> list[tuple[int, dict, str]]:
    """(line number, record, raw text) per data row; FileRejected when the file is unreadable."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected(f"{name} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    wanted = sorted({spec.columns[f] for f in FIELDS if spec.columns.get(f)})
    if spec.format == "csv":
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=spec.delimiter)
        header = reader.fieldnames or []
        missing = [c for c in wanted if c not in header]
        if missing:
            raise FileRejected(f"{name}: the header has no column {missing[0]!r} (header: {', '.join(header) or 'empty'})")
        out = []
        lines = text.splitlines()
        for record in reader:
            line = reader.line_num  # the physical line the record ended on (header = line 1)
            raw = lines[line - 1] if 0 < line <= len(lines) else ""
            if None in record:  # more fields than the header
                out.append((line, {"__error__": f"{len(record[None]) + len(header)} fields, the header has {len(header)}"}, raw))
                continue
            out.append((line, record, raw))
        return out
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise FileRejected(f"{name} is not valid JSON ({exc})") from None
    if isinstance(payload, dict) and isinstance(payload.get("rows"), list):
        payload = payload["rows"]
    if not isinstance(payload, list):
        raise FileRejected(f"{name}: expected a JSON array of rows (or {{\"rows\": [...]}})")
    return [(i, r if isinstance(r, dict) else {"__error__": f"record is a {type(r).__name__}, not an object"}, json.dumps(r)) for i, r in enumerate(payload, start=1)]


def parse_file(name: str, content: bytes, spec: FileDropFormat) -> ParsedFile:
    """Every row of one dropped file: good rows in canonical form, bad rows with line and reason."""
    parsed = ParsedFile(name)
    try:
        records = _records(name, content, spec)
    except FileRejected as exc:
        parsed.error = str(exc)
        return parsed
    for line, record, raw in records:
        if "__error__" in record:
            parsed.bad_rows.append(BadRow(line, record["__error__"], raw))
            continue
        try:
            parsed.rows.append(canonical_row(record, spec, line))
        except ValueError as exc:
            parsed.bad_rows.append(BadRow(line, str(exc), raw))
    return parsed


def report_date(record: dict) -> date:
    return date.fromisoformat(record["date"])
