"""The validation suite run by Great Expectations itself: the reference engine the loader's vectorised checks
(`ads_elt.ingestion.validation.outcomes_vectorised`) are tested against. Great Expectations is a development dependency
(requirements-dev.txt); nothing at run time imports this module.

    validate_batch(platform, records, start, end, engine=outcomes_great_expectations)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from ads_elt.ingestion.validation import METRICS, Outcome, ReportChecks, checks_for

_GX: dict[str, Any] = {}


def _batch_definition():
    """One ephemeral, offline GX context per process, with a whole-dataframe batch definition."""
    if "batch_definition" not in _GX:
        import great_expectations as gx

        context = gx.get_context(mode="ephemeral")
        try:
            from great_expectations.data_context.types.base import ProgressBarsConfig

            context.variables.progress_bars = ProgressBarsConfig(globally=False)
        except Exception:  # noqa: BLE001 - cosmetic only
            pass
        source = context.data_sources.add_pandas("raw_batches")
        asset = source.add_dataframe_asset("raw_batch")
        _GX["batch_definition"] = asset.add_batch_definition_whole_dataframe("whole_batch")
    return _GX["batch_definition"]


def build_suite(
    platform: str, window_start: date, window_end: date, expected_days: Sequence[date], checks: ReportChecks | None = None
):
    import great_expectations as gx
    from great_expectations import expectations as gxe

    checks = checks or checks_for(platform)
    names = {s.name for s in checks.fields}
    suite = gx.ExpectationSuite(name=f"raw_{platform}")
    if not checks.entity_list:
        suite.add_expectation(gxe.ExpectColumnToExist(column="report_date"))
        suite.add_expectation(
            gxe.ExpectColumnValuesToBeBetween(
                column="report_date", min_value=window_start.toordinal(), max_value=window_end.toordinal()
            )
        )
    if expected_days and not checks.entity_list:
        suite.add_expectation(
            gxe.ExpectColumnDistinctValuesToContainSet(column="report_date", value_set=[d.toordinal() for d in expected_days])
        )
    for name in sorted(names):
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=name))
    for metric in METRICS:
        if metric in names:
            suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column=metric, min_value=0))
    if {"impressions", "clicks"} <= names:
        suite.add_expectation(gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="impressions", column_B="clicks", or_equal=True))
    if checks.key and set(checks.key) <= names:
        key = list(checks.key) if checks.entity_list else [*checks.key, "report_date"]
        if len(key) == 1:
            suite.add_expectation(gxe.ExpectColumnValuesToBeUnique(column=key[0]))
        else:
            suite.add_expectation(gxe.ExpectCompoundColumnsToBeUnique(column_list=key))
    return suite


def _unexpected_lines(result) -> list[int]:
    out = []
    for item in result.result.get("unexpected_index_list") or []:
        out.append(int(item["line"]) if isinstance(item, dict) else int(item))
    return out



def outcomes_great_expectations(
    frame, platform: str, window_start: date, window_end: date, expected_days: Sequence[date], checks: ReportChecks | None = None
) -> list[Outcome]:
    """The suite of ``build_suite`` run by Great Expectations (the reference ``outcomes_vectorised`` must match)."""
    result = _batch_definition().get_batch(batch_parameters={"dataframe": frame}).validate(
        build_suite(platform, window_start, window_end, expected_days, checks),
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["line"]},
    )
    return [Outcome(r.expectation_config.type, dict(r.expectation_config.kwargs), bool(r.success), _unexpected_lines(r)) for r in result.results]


