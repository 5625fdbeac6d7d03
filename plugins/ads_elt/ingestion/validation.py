"""Raw batch validation with Great Expectations, before a batch reaches the raw tables.

Each batch (one account's window, as extracted) becomes a pandas frame with one
row per API record: its canonical fields read from the payload by the
platform's ``FieldSpec``s (absent metrics are zero, as the platforms mean it;
a present value that is not a number is null). One expectation suite checks:

| check                | expectation                                                     | failing rows          |
|----------------------|-----------------------------------------------------------------|-----------------------|
| schema and types     | campaign id, date and metrics present and typed (not null)      | quarantined           |
| value ranges         | spend, impressions, clicks, conversion value >= 0               | quarantined           |
| clicks <= impressions| ``impressions`` >= ``clicks``                                   | quarantined           |
| window               | report date within the requested window                         | quarantined           |
| duplicates           | (campaign, day) unique                                          | the repeats quarantined, the first kept |
| completeness         | every expected account-day present                              | (none: the day is reported missing) |

Expected account-days: every day of the window from the account's first day
with data (in this batch or already loaded) on. A batch whose share of bad rows
exceeds ``ADS_ELT_MAX_BAD_ROW_SHARE`` (default 0.5), or whose records lack a
required field altogether, is rejected wholesale: nothing of it is loaded.

Platforms plug in through the platform catalogue: each report of an
``adapters.PLATFORMS`` spec declares its ``fields`` (``FieldSpec``s) and its ``key``,
unique per day (the campaign for a primary report, e.g. the ad set for a finer grain);
a report that declares no fields gets the date checks only (window, completeness).
Entity lists (campaign lists, no report date) get lenient checks: their key present
and unique, no window or completeness check; a list without its key at all is still
rejected (the schema changed).

Store orders (the catalogue's stores) are checked for an order id and a total that
reads as a number; duplicates are the same order id twice on one day; and there
is no completeness check (a day without order changes is normal).

The suite (``ads_elt.ingestion.validation_gx.build_suite``, Great Expectations') is the
specification. The loader evaluates it with numpy on the whole frame
(``outcomes_vectorised``, milliseconds for 100,000 records);
``validate_batch(..., engine=validation_gx.outcomes_great_expectations)`` runs
the same suite through the GX validator (about half a second per batch,
whatever its size), and a test requires both to give the same findings,
reasons and verdict. Great Expectations is a development dependency: nothing
at run time imports ``validation_gx``.
The frame itself is built a field at a time, not a record at a time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from adapters.catalogue import FieldSpec

log = logging.getLogger(__name__)

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

METRICS = ("spend", "impressions", "clicks", "conversion_value")
DEFAULT_MAX_BAD_ROW_SHARE = 0.5

# Checks whose failing rows make their day incomplete (the account's sync state does not move past it).
DAY_BREAKING_CHECKS = frozenset({"schema", "negative_value", "clicks_over_impressions"})


def _get(record: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(record, dict) or key not in record:
            return _MISSING
        record = record[key]
    return record


_MISSING = object()


@dataclass(frozen=True)
class ReportChecks:
    """What one report's rows must satisfy: its fields, and the key unique per day (or overall, for entity lists)."""

    fields: tuple[FieldSpec, ...] = ()
    key: tuple[str, ...] = ("campaign_id",)
    entity_list: bool = False


def checks_for(platform: str, report: str | None = None) -> ReportChecks:
    """The checks ``platform``'s ``report`` declares in the catalogue (None: its primary report)."""
    from adapters import PLATFORMS

    spec = PLATFORMS.get(platform)
    if spec is None:
        return ReportChecks()
    declared = spec.primary if report is None else spec.get(report)
    return ReportChecks(declared.fields, declared.key, declared.entity_list)


def is_order_list(platform: str) -> bool:
    """A store's orders: a day without order changes is normal, so no completeness check."""
    from adapters import PLATFORMS

    spec = PLATFORMS.get(platform)
    return spec is not None and spec.store


@dataclass
class Record:
    """One API record of a batch, where it came from, and the day it reports on."""

    source: str
    line_number: int
    payload: dict
    report_date: date | None  # None for entity lists


@dataclass
class Finding:
    check: str
    reason: str


@dataclass
class ValidationResult:
    bad: dict[int, Finding] = field(default_factory=dict)  # record index -> first finding
    missing_days: list[date] = field(default_factory=list)
    expected_days: int = 0
    rejected: str | None = None  # why the whole batch is refused
    checks: dict[str, bool] = field(default_factory=dict)  # expectation -> success

    def breaking_days(self, records: Sequence[Record]) -> list[date]:
        """Days the batch could not deliver whole: missing, or with rows quarantined for their values."""
        days = set(self.missing_days)
        days.update(records[i].report_date for i, f in self.bad.items() if f.check in DAY_BREAKING_CHECKS)
        return sorted(days)


def max_bad_row_share() -> float:
    return float(os.environ.get("ADS_ELT_MAX_BAD_ROW_SHARE") or DEFAULT_MAX_BAD_ROW_SHARE)


# -- the frame ------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _column(payloads: Sequence[Any], path: tuple[str, ...], prefixes: dict[tuple[str, ...], list[Any]]) -> list[Any]:
    """The value at `path` of every payload, ``_MISSING`` where absent (``_get`` over a column at once).

    `prefixes` keeps the columns of shorter paths, so fields under one object (``metrics.*``) read it once.
    """
    if path in prefixes:
        return prefixes[path]
    parent = _column(payloads, path[:-1], prefixes) if len(path) > 1 else payloads
    key = path[-1]
    prefixes[path] = values = [v.get(key, _MISSING) if type(v) is dict else _MISSING for v in parent]
    return values


def _number_column(spec: FieldSpec, raw: list[Any], errors: dict[int, str]):
    """A number field as float64 (NaN where not a number), its type errors into `errors`."""
    import numpy as np

    if spec.default is not None:
        raw = [spec.default if v is _MISSING or v is None else v for v in raw]
    if set(map(type, raw)) <= {int, float, str}:
        # Every value is a number or a string: float() reads them all, as _number does, or one fails.
        try:
            return np.fromiter(map(float, raw), dtype="float64", count=len(raw)) * spec.scale
        except (ValueError, OverflowError):
            pass
    values = []
    where = ".".join(spec.path)
    for i, value in enumerate(raw):
        if value is _MISSING or value is None:
            errors.setdefault(i, f"{where} is missing")
            values.append(None)
            continue
        number = _number(value)
        if number is None:
            errors.setdefault(i, f"{where} is not a number ({str(value)[:40]!r})")
        values.append(None if number is None else number * spec.scale)
    return np.array(values, dtype="float64")


def _text_column(spec: FieldSpec, raw: list[Any], errors: dict[int, str]) -> list[str | None]:
    """A text field (a non-empty string, else None), its type errors into `errors`."""
    if spec.kind == "id":  # numeric ids (Salla, Zid, WooCommerce orders) read as their text
        raw = [str(v) if type(v) is int else v for v in raw]
    values = [v if type(v) is str and v else None for v in raw]
    if None in values:
        where = ".".join(spec.path)
        for i, (value, original) in enumerate(zip(values, raw, strict=True)):
            if value is not None:
                continue
            if original is _MISSING or original is None:
                if spec.default is None:
                    errors.setdefault(i, f"{where} is missing")
                else:
                    values[i] = spec.default
            elif isinstance(original, str) and original:
                values[i] = original  # a str subclass
            else:
                errors.setdefault(i, f"{where} is not a non-empty string ({str(original)[:40]!r})")
    return values


def build_frame(platform: str, records: Sequence[Record], specs: Sequence[FieldSpec] | None = None):
    """The batch as a DataFrame: ``line`` (index into records), ``report_date`` (ordinal), canonical fields.

    Built a column at a time (one pass over the records per field, numbers converted by numpy when
    they all read as numbers), so a batch of 100,000 records costs a fraction of a second. Also
    returns the type errors: record index -> the first field (in spec order) that is missing or
    mistyped, and why.
    """
    import numpy as np
    import pandas as pd

    specs = checks_for(platform).fields if specs is None else specs
    payloads = [r.payload for r in records]
    errors_by_spec: list[dict[int, str]] = []
    prefixes: dict[tuple[str, ...], list[Any]] = {}
    columns: dict[str, Any] = {
        "line": np.arange(len(records), dtype="int64"),
    }
    if all(r.report_date is not None for r in records):
        columns["report_date"] = np.fromiter((r.report_date.toordinal() for r in records), dtype="int64", count=len(records))
    else:  # entity lists: no report date
        columns["report_date"] = pd.Series([r.report_date.toordinal() if r.report_date else None for r in records], dtype="object")
    for spec in specs:
        errors: dict[int, str] = {}
        raw = _column(payloads, spec.path, prefixes)
        columns[spec.name] = _number_column(spec, raw, errors) if spec.kind == "number" else _text_column(spec, raw, errors)
        errors_by_spec.append(errors)
    type_errors: dict[int, str] = {}
    for errors in errors_by_spec:  # the first spec that fails a record names it
        for i, reason in errors.items():
            type_errors.setdefault(i, reason)
    return pd.DataFrame(columns), dict(sorted(type_errors.items()))


def expected_days_for(window_start: date, window_end: date, first_day_with_data: date | None) -> list[date]:
    if first_day_with_data is None:
        return []
    start = max(window_start, first_day_with_data)
    return [start + timedelta(days=n) for n in range((window_end - start).days + 1)]


@dataclass
class Outcome:
    """One expectation of the suite on one batch: did it hold, and the record indexes that broke it."""

    type: str
    kwargs: dict[str, Any]
    success: bool
    lines: list[int]

    @property
    def name(self) -> str:
        kw = self.kwargs
        return self.type + f"({kw.get('column') or kw.get('column_A') or ','.join(kw.get('column_list', []))})"


def _outcome(type_: str, kwargs: dict[str, Any], failing) -> Outcome:
    import numpy as np

    lines = np.flatnonzero(failing).tolist()
    return Outcome(type_, kwargs, not lines, lines)


def outcomes_vectorised(
    frame, platform: str, window_start: date, window_end: date, expected_days: Sequence[date], checks: ReportChecks | None = None
) -> list[Outcome]:
    """The suite of ``build_suite``, evaluated with numpy on the whole frame, in the order GX reports it.

    Same semantics as Great Expectations' pandas engine: column-value checks leave nulls out (a
    null is the not-null check's finding), the pair check skips rows where both are null, the
    compound-unique check returns every row of a repeated (campaign, day). A test runs both on
    batches with every kind of bad record and requires the same outcomes; this one costs
    milliseconds where the GX validator costs half a second per batch.
    """
    import numpy as np

    checks = checks or checks_for(platform)
    names = {s.name for s in checks.fields}
    out: list[Outcome] = []
    if not checks.entity_list:
        days = frame["report_date"].to_numpy()
        lo, hi = window_start.toordinal(), window_end.toordinal()
        out.append(Outcome("expect_column_to_exist", {"column": "report_date"}, True, []))
        out.append(
            _outcome("expect_column_values_to_be_between", {"column": "report_date", "min_value": lo, "max_value": hi}, (days < lo) | (days > hi))
        )
        if expected_days:
            missing = {d.toordinal() for d in expected_days} - set(np.unique(days).tolist())
            out.append(Outcome("expect_column_distinct_values_to_contain_set", {"column": "report_date"}, not missing, []))
    for name in sorted(names):  # GX's order: per column, not-null then the range
        out.append(_outcome("expect_column_values_to_not_be_null", {"column": name}, frame[name].isna().to_numpy()))
        if name in METRICS:
            values = frame[name].to_numpy(dtype="float64")
            with np.errstate(invalid="ignore"):
                out.append(_outcome("expect_column_values_to_be_between", {"column": name, "min_value": 0}, values < 0))
    if {"impressions", "clicks"} <= names:
        a, b = frame["impressions"].to_numpy(dtype="float64"), frame["clicks"].to_numpy(dtype="float64")
        with np.errstate(invalid="ignore"):
            failing = ~(a >= b) & ~(np.isnan(a) & np.isnan(b))
        out.append(_outcome("expect_column_pair_values_a_to_be_greater_than_b", {"column_A": "impressions", "column_B": "clicks"}, failing))
    if checks.key and set(checks.key) <= names:
        key = list(checks.key) if checks.entity_list else [*checks.key, "report_date"]
        failing = frame.duplicated(key, keep=False)
        if len(key) == 1:  # GX leaves nulls out of a column's uniqueness (a null is the not-null check's finding)
            out.append(_outcome("expect_column_values_to_be_unique", {"column": key[0]}, (failing & frame[key[0]].notna()).to_numpy()))
        else:
            out.append(_outcome("expect_compound_columns_to_be_unique", {"column_list": key}, failing.to_numpy()))
    return out


# An engine: (frame, platform, window start, window end, expected days, checks) -> outcomes. The loader uses
# `outcomes_vectorised`; `ads_elt.ingestion.validation_gx.outcomes_great_expectations` (Great Expectations itself, a
# development dependency) is the reference the tests hold it to.
Engine = Callable[..., list["Outcome"]]


def validate_batch(
    platform: str,
    records: Sequence[Record],
    window_start: date,
    window_end: date,
    first_loaded_day: date | None = None,
    report: str | None = None,
    engine: Engine = outcomes_vectorised,
) -> ValidationResult:
    """Run the suite on one batch of ``platform``'s ``report`` (None: its primary report).

    Returns the bad records with reasons, missing days and the verdict. `engine`: the loader's
    ``outcomes_vectorised``, or ``ads_elt.ingestion.validation_gx.outcomes_great_expectations`` (the reference);
    both give the same result.
    """
    checks = checks_for(platform, report)
    frame, type_errors = build_frame(platform, records, checks.fields)
    if checks.entity_list or is_order_list(platform):
        expected: list[date] = []
    else:
        first_day = min([r.report_date for r in records] + ([first_loaded_day] if first_loaded_day else []), default=None)
        expected = expected_days_for(window_start, window_end, first_day)
    result = ValidationResult(expected_days=len(expected))

    def flag(index: int, check: str, reason: str) -> None:
        result.bad.setdefault(index, Finding(check, reason))

    for index, reason in type_errors.items():
        flag(index, "schema", reason)

    if len(frame):
        for r in engine(frame, platform, window_start, window_end, expected, checks):
            kwargs = r.kwargs
            result.checks[r.name] = r.success
            if r.success:
                continue
            lines = r.lines
            if r.type == "expect_column_values_to_not_be_null":
                for i in lines:
                    flag(i, "schema", f"{kwargs['column']} is missing or not a number")
            elif r.type == "expect_column_values_to_be_between" and kwargs["column"] == "report_date":
                for i in lines:
                    flag(i, "window", f"report date {records[i].report_date} outside the requested window {window_start}..{window_end}")
            elif r.type == "expect_column_values_to_be_between":
                column = kwargs["column"]
                for i in lines:
                    flag(i, "negative_value", f"{column} is negative ({frame.at[i, column]:g})")
            elif r.type == "expect_column_pair_values_a_to_be_greater_than_b":
                for i in lines:
                    flag(
                        i,
                        "clicks_over_impressions",
                        f"clicks ({frame.at[i, 'clicks']:g}) exceed impressions ({frame.at[i, 'impressions']:g})",
                    )
            elif r.type in ("expect_compound_columns_to_be_unique", "expect_column_values_to_be_unique"):
                first_line: dict[tuple, int] = {}
                columns = kwargs.get("column_list") or [kwargs["column"]]
                for i in sorted(lines):
                    key = tuple(frame.at[i, c] for c in columns)
                    if key in first_line:
                        original = records[first_line[key]]
                        what = ", ".join(
                            str(records[i].report_date) if c == "report_date" else f"{c.removesuffix('_id').replace('_', ' ')} {frame.at[i, c]}"
                            for c in columns
                        )
                        flag(i, "duplicate", f"duplicate of {original.source} record {original.line_number} ({what})")
                    else:
                        first_line[key] = i
    present = {r.report_date for r in records}
    result.missing_days = [d for d in expected if d not in present]
    if result.missing_days:
        result.checks["expect_column_distinct_values_to_contain_set(report_date)"] = False

    if records:
        share = len(result.bad) / len(records)
        missing_required = [
            s.name
            for s in checks.fields
            if s.default is None and all(_get(r.payload, s.path) in (_MISSING, None) for r in records)
        ]
        if missing_required:
            result.rejected = f"no record has {', '.join(missing_required)}: the report's schema changed"
        elif share > max_bad_row_share():
            result.rejected = (
                f"{len(result.bad)} of {len(records)} records failed validation ({share:.0%}, more than the "
                f"{max_bad_row_share():.0%} allowed); first: {next(iter(result.bad.values())).reason}"
            )
    log.info(
        "%s %s batch: %d record(s), %d bad, %d missing day(s)%s",
        platform,
        report or "primary",
        len(records),
        len(result.bad),
        len(result.missing_days),
        f", REJECTED: {result.rejected}" if result.rejected else "",
    )
    return result


