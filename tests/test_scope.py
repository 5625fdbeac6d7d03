"""The sync scope crosses XCom as JSON and comes back typed; a broken one fails at the boundary, naming the field."""

from __future__ import annotations

import json
from datetime import date

import pytest

from ads_elt.ingestion.scope import SyncScope

SCOPE = SyncScope(
    platform="meta", workspace_id="northwind_us", account_id="act_1", connection="meta_default", timezone=None,
    window_start=date(2026, 11, 1), window_end=date(2026, 11, 20), run_date=date(2026, 11, 20), sync_run_id="scheduled__x",
)  # fmt: skip


def test_a_scope_survives_xcom_as_json_and_comes_back_equal():
    wire = json.loads(json.dumps(SCOPE.to_xcom()))  # what XCom stores
    assert wire["window_start"] == "2026-11-01" and wire["timezone"] is None
    back = SyncScope.of(wire)
    assert back == SCOPE and isinstance(back.window_end, date)
    assert SyncScope.of(back) is back
    assert SCOPE.label == "northwind_us / act_1"
    assert SCOPE.params(status="failed")["window_end"] == date(2026, 11, 20)


def test_a_broken_scope_names_what_is_wrong():
    wire = SCOPE.to_xcom()
    with pytest.raises(ValueError, match="missing run_date, sync_run_id"):
        SyncScope.of({k: v for k, v in wire.items() if k not in ("run_date", "sync_run_id")})
    with pytest.raises(ValueError, match=r"meta account act_1: window_end '2026-13-01' is not a date"):
        SyncScope.of({**wire, "window_end": "2026-13-01"})
    # the optional fields may be absent (a file drop's scope has no time zone)
    assert SyncScope.of({k: v for k, v in wire.items() if k != "timezone"}).timezone is None


def test_a_lake_manifest_is_typed_where_the_load_takes_it_and_keeps_what_else_the_extract_recorded():
    from ads_elt.ingestion.lake import LakeManifest

    raw = {
        "platform": "meta", "report": "insights", "workspace_id": "northwind_us", "account_id": "act_1",
        "window_start": "2026-11-01", "window_end": "2026-11-20", "sync_run_id": "scheduled__x",
        "extracted_at": "2026-11-21T06:00:00+00:00", "pages": ["page-00001.json"], "record_count": 3,
        "requests": [{"url": "https://graph.facebook.com/v21.0/act_1/insights"}],
    }  # fmt: skip
    manifest = LakeManifest.of(json.loads(json.dumps(raw)))
    assert manifest.window_end == date(2026, 11, 20) and manifest.pages == ("page-00001.json",)
    assert manifest.extra == {"requests": raw["requests"]}
    assert manifest.params(status="ok")["window_start"] == date(2026, 11, 1)
    assert manifest.account == "meta account act_1 (northwind_us)"
    with pytest.raises(ValueError, match="meta account act_1: missing report"):
        LakeManifest.of({**raw, "report": ""})
    with pytest.raises(ValueError, match="window_start 'yesterday' is not a date"):
        LakeManifest.of({**raw, "window_start": "yesterday"})
