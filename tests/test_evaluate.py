"""The alert-quality evaluation scores what people receive: each alert once, against the world's labels."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from evaluate import IDEAL_SPREADS, detection_chance, matches, payload, score, visibility_spreads  # noqa: E402

from sandbox.realistic import RealisticWorld  # noqa: E402


@pytest.fixture(scope="module")
def world():
    return RealisticWorld(date(2025, 12, 1), days=365, workspaces=2, campaigns=16, seed=5)


def alert(key: str, e, day: date, status: str = "sent", signal: str = "roas", **kw) -> dict:
    return {
        "alert_key": key, "workspace_id": e.workspace_id, "platform": e.platform or "all",
        "campaign_id": e.campaign_id or "all", "signal": signal, "date_day": day, "status": status, "source": "anomaly", **kw,
    }  # fmt: skip


def test_an_alert_delivered_twice_counts_once_and_delays_are_from_the_first_sent(world):
    first = world.start + timedelta(days=60)
    incidents = [e for e in world.events if e.incident and e.start >= first]
    e, other = incidents[0], incidents[1]
    noise_day = first + timedelta(days=1)
    quiet = next(
        c for c in world.campaigns
        if c.workspace_id == e.workspace_id and not any(ev.start <= noise_day <= ev.end + timedelta(days=2) for ev in world.events_of(c))
    )  # fmt: skip
    alerts = [
        alert("k1", e, e.start + timedelta(days=1)),
        alert("k1", e, e.start + timedelta(days=1)),  # the same alert again (a rerun, a retried channel)
        alert("k2", e, e.start, status="suppressed"),  # held back: nobody received it
        {**alert("k3", e, noise_day), "platform": quiet.platform, "campaign_id": quiet.campaign_id},
    ]
    report = score(alerts, world, first)
    assert report["alerts_sent"] == 2 and report["alerts_held_back"] == {"suppressed": 1}
    outcome = report["incident_outcomes"][e.event_id]
    assert outcome["delay_days"] == 1 and outcome["detected"] == (1 <= (3 if e.kind == "gradual_decline" else 1))
    assert report["incident_outcomes"][other.event_id]["delay_days"] is None
    by = report["by_detector"]["anomaly:roas"]
    assert (by["sent"], by["true"], by["false"]) == (2, 1, 1)
    scored_days = (world.end - first).days + 1
    assert report["false_alerts_per_workspace_per_30d"] == round(1 / 2 / (scored_days / 30), 2)
    assert report["incidents"] == len(incidents) and report["workspaces"] == 2 and report["days"] == scored_days
    assert {"recall", "precision", "false_alerts_per_workspace_per_30d", "benign_event_alerts",
            "median_detection_delay_days", "incidents", "days", "workspaces"} <= set(report)  # fmt: skip


def test_an_alert_matches_its_campaign_its_platform_total_and_its_workspace_total_only(world):
    e = next(ev for ev in world.events if ev.incident and ev.campaign_id)
    day = e.start
    assert matches(alert("a", e, day), e)
    assert matches({**alert("a", e, day), "campaign_id": "all"}, e)  # the platform's total
    assert matches({**alert("a", e, day), "platform": "all", "campaign_id": "all"}, e)  # the workspace total
    assert not matches({**alert("a", e, day), "campaign_id": "other"}, e)
    assert not matches({**alert("a", e, day), "workspace_id": "elsewhere"}, e)
    assert not matches(alert("a", e, e.start - timedelta(days=1)), e)
    assert matches(alert("a", e, e.end + timedelta(days=2)), e) and not matches(alert("a", e, e.end + timedelta(days=3)), e)


def test_the_world_lands_in_each_platforms_wire_format(world):
    from types import SimpleNamespace

    shapes = {}
    for c in world.campaigns:
        if c.platform in shapes:
            continue
        day = next(d for d in (world.end - timedelta(days=n) for n in range(30)) if world.day(c, d))
        row = {**world.day(c, day), "campaign_id": c.campaign_id, "campaign_name": c.campaign_name, "currency": c.currency, "date": day}
        account = SimpleNamespace(account_id=c.account_id, name="a", currency=c.currency, timezone="UTC")
        shapes[c.platform] = (payload(c.platform, account, row), row)
    assert {"meta", "google_ads"} <= set(shapes)
    meta, row = shapes["meta"]
    assert meta["spend"] == f"{row['spend']:.2f}" and meta["date_start"] == row["date"].isoformat()
    google, row = shapes["google_ads"]
    assert google["metrics"]["costMicros"] == str(round(row["spend"] * 1_000_000))
    for platform in {"amazon_ads", "tiktok"} & set(shapes):
        body, row = shapes[platform]
        assert str(row["impressions"]) in str(body)


def test_an_ideal_detector_bounds_recall_where_an_incident_only_takes_a_share_of_the_conversions(world):
    """`ideal_detector_recall`: incidents that leave traffic and spend alone and keep some conversions (ROAS collapse,
    gradual decline) are as visible as the campaign's volume allows; every other incident is beyond chance."""
    first = world.start + timedelta(days=60)
    incidents = [e for e in world.events if e.incident and e.start >= first]
    spreads = {e.event_id: visibility_spreads(world, e) for e in incidents}
    bounded = {e.kind for e in incidents if spreads[e.event_id] is not None}
    assert bounded == {"roas_collapse", "gradual_decline"}, bounded
    # The more conversions a campaign has a day, the further the same decline stands out of chance.
    declines = sorted(
        (world.levels(world.campaign(e.platform, e.account_id, e.campaign_id)).conversions_per_day, spreads[e.event_id])
        for e in incidents if e.kind == "gradual_decline"
    )  # fmt: skip
    assert len(declines) >= 2 and [s for _, s in declines] == sorted(s for _, s in declines), declines
    assert declines[0][1] < declines[-1][1], declines
    assert detection_chance(None) == 1.0 and detection_chance(IDEAL_SPREADS) == 0.5
    report = score([], world, first)  # nothing sent: nothing caught, the bound is the data's alone
    assert report["recall"] == 0.0
    chances = [detection_chance(spreads[e.event_id]) for e in incidents]
    assert report["ideal_detector_recall"] == round(sum(chances) / len(chances), 3) < 1.0
    for kind, summary in report["by_incident_kind"].items():
        assert (summary["ideal_detector_recall"] == 1.0) == (kind not in bounded), (kind, summary)
    assert all(o["visibility_spreads"] == spreads[i] for i, o in report["incident_outcomes"].items())
