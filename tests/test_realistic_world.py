"""The realistic world (sandbox/realistic.py): deterministic, heavy-tailed, and its labels are exact.

Alert quality is measured against these labels, so every incident must be in the data exactly
as labelled (its kind's effect on each of its days, nothing the day before or after) and the
benign events must be where the world says they are.
"""

import statistics
from collections import Counter
from datetime import date, timedelta

import pytest

from sandbox.realistic import BENIGN_KINDS, INCIDENT_KINDS, RealisticWorld

START = date(2025, 12, 1)
ONE_DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def world() -> RealisticWorld:
    return RealisticWorld(START)


def _days(first: date, last: date):
    d = first
    while d <= last:
        yield d
        d += ONE_DAY


def _campaign_of(world, event):
    return world.campaign(event.platform, event.account_id, event.campaign_id)


def _events_on(world, c, d):
    """The events acting on campaign c on day d (a budget step acts from its start on)."""
    return [e for e in world.events_of(c) if e.start <= d and (d <= e.end or e.kind == "budget_increase")]


def test_the_same_seed_gives_the_same_world_and_another_seed_another(world):
    again = RealisticWorld(START)
    assert again.workspaces == world.workspaces and again.campaigns == world.campaigns and again.events == world.events
    sample = [(c, START + timedelta(days=n)) for i, c in enumerate(world.campaigns) for n in range(i % 13, world.days, 29)]
    # computed in the opposite order on the second world: a campaign-day depends on nothing else
    theirs = {(c.key, d): again.day(again.campaign(*c.key), d) for c, d in reversed(sample)}
    assert all(world.day(c, d) == theirs[(c.key, d)] for c, d in sample)
    other = RealisticWorld(START, seed=12)
    assert other.events != world.events
    other_c = other.campaigns[0]
    assert [other.day(other_c, d) for d in _days(START, START + 9 * ONE_DAY)] != [
        world.day(world.campaigns[0], d) for d in _days(START, START + 9 * ONE_DAY)
    ]


def test_workspaces_accounts_and_campaigns_are_shaped_like_the_spec(world):
    assert [w.workspace_id for w in world.workspaces] == ["ws_1", "ws_2", "ws_3", "ws_4"]
    assert [w.currency for w in world.workspaces] == ["USD", "EUR", "GBP", "SAR"]
    saudi = world.workspaces[-1]
    assert (saudi.country, saudi.timezone) == ("SA", "Asia/Riyadh")
    assert len(world.campaigns) == 40
    accounts = {(c.workspace_id, c.platform): c.account_id for c in world.campaigns}
    assert len(set(accounts.values())) == len(accounts) and all(a.isdigit() for a in accounts.values())
    for ws in world.workspaces:
        platforms = {p for w, p in accounts if w == ws.workspace_id}
        assert {"meta", "google_ads"} <= platforms and platforms <= {"meta", "google_ads", "amazon_ads", "tiktok"}
        assert sum(c.workspace_id == ws.workspace_id for c in world.campaigns) == 10
    assert {p for _, p in accounts} == {"meta", "google_ads", "amazon_ads", "tiktok"}
    ids = [(c.platform, c.campaign_id) for c in world.campaigns]
    assert len(set(ids)) == len(ids) and all(i.isdigit() for _, i in ids)
    stepped = {e.campaign_id for e in world.events if e.kind == "budget_increase"}
    spends = []
    for c in world.campaigns:
        daily = world.levels(c).daily_spend
        spends.append(daily)
        assert 80 <= daily <= 3000 and c.currency == next(
            w.currency for w in world.workspaces if w.workspace_id == c.workspace_id
        )
        assert c.monthly_budget == pytest.approx((1.9 if c.campaign_id in stepped else 1.0) * 30.4 * daily, abs=5.01)
        assert world.campaign(c.platform, c.account_id, c.campaign_id) is c
    assert sum(s < 150 for s in spends) >= 3 and max(spends) > 1500
    amazon = [world.levels(c) for c in world.campaigns if c.platform == "amazon_ads"]
    assert all(3.0 <= lv.roas <= 5.0 and 0.003 <= lv.ctr <= 0.005 for lv in amazon)


def test_rows_have_the_reported_types(world):
    seen = set()
    for row in world.rows():
        if row["date"].day != 15:  # one day a month is enough to see every campaign and platform
            continue
        assert isinstance(row["spend"], float) and round(row["spend"], 2) == row["spend"]
        assert isinstance(row["conversion_value"], float) and round(row["conversion_value"], 2) == row["conversion_value"]
        assert type(row["impressions"]) is int and type(row["clicks"]) is int and row["clicks"] <= row["impressions"]
        if row["platform"] == "google_ads":
            assert isinstance(row["conversions"], float) and round(row["conversions"], 2) == row["conversions"]
        else:
            assert type(row["conversions"]) is int
        assert row["conversions"] or row["conversion_value"] == 0
        seen.add(row["platform"])
    assert seen == {"meta", "google_ads", "amazon_ads", "tiktok"}


def _check_incident_day(kind, got, base, detail, k):
    """The labelled effect of one incident on its k-th day (1-based), day() vs baseline()."""
    if kind == "stops_reporting":
        assert got is None and base is not None
        return
    assert got is not None and base is not None
    same_delivery = got["spend"] == base["spend"] and got["impressions"] == base["impressions"]
    if kind == "ctr_collapse":
        assert (
            same_delivery
            and got["clicks"] <= 0.5 * base["clicks"]
            and got["clicks"] <= round(detail["factor"] * base["clicks"]) + 1
        )
        assert got["conversion_value"] <= base["conversion_value"]
    elif kind == "spend_spike_no_conversions":
        assert got["spend"] >= 2.5 * base["spend"] - 0.01 and got["clicks"] >= base["clicks"]
        assert got["conversions"] == 0 and got["conversion_value"] == 0
    elif kind == "tracking_broken":
        assert same_delivery and got["clicks"] == base["clicks"]
        assert got["conversions"] == 0 and got["conversion_value"] == 0
    elif kind == "roas_collapse":
        assert same_delivery and got["clicks"] == base["clicks"]
        assert (
            got["conversion_value"] <= 0.35 * base["conversion_value"] + 0.01
            and got["conversions"] <= 0.4 * base["conversions"] + 0.5
        )
    elif kind == "budget_overspend":
        assert got["spend"] >= 1.7 * base["spend"] - 0.01 and got["spend"] == pytest.approx(
            detail["factor"] * base["spend"], abs=0.02
        )
    elif kind == "gradual_decline":
        assert got["spend"] == base["spend"] and got["clicks"] == base["clicks"]
        if base["conversion_value"]:
            expected = 1 - 0.65 * k / 7
            assert (
                got["conversion_value"] == pytest.approx(expected * base["conversion_value"], abs=0.011)
                or got["conversions"] == 0
            )
    else:
        raise AssertionError(f"no check for {kind}")


def test_every_incident_is_in_the_data_exactly_as_labelled(world):
    lengths = {
        "ctr_collapse": (2, 4),
        "spend_spike_no_conversions": (1, 2),
        "tracking_broken": (3, 5),
        "roas_collapse": (3, 5),
        "budget_overspend": (6, 10),
        "gradual_decline": (7, 7),
        "stops_reporting": (3, 6),
    }
    incidents = [e for e in world.events if e.incident]
    assert incidents and {e.kind for e in incidents} == set(INCIDENT_KINDS)
    for e in incidents:
        assert not e.declared and e.kind in INCIDENT_KINDS
        c = _campaign_of(world, e)
        low, high = lengths[e.kind]
        assert low <= (e.end - e.start).days + 1 <= high, e
        ratios = []
        for k, d in enumerate(_days(e.start, e.end), start=1):
            assert _events_on(world, c, d) == [e], (e.event_id, d)
            got, base = world.day(c, d), world.baseline(c, d)
            _check_incident_day(e.kind, got, base, e.detail, k)
            if e.kind == "gradual_decline" and base["conversion_value"] and got["conversions"]:
                ratios.append(got["conversion_value"] / base["conversion_value"])
            if e.kind == "stops_reporting":  # the account's other campaigns keep reporting
                others = [o for o in world.campaigns if o.account_id == c.account_id and o is not c]
                assert any(world.day(o, d) is not None for o in others), (e.event_id, d)
        if e.kind == "gradual_decline":
            assert len(ratios) >= 5 and all(a > b for a, b in zip(ratios, ratios[1:], strict=False)), (e.event_id, ratios)
            assert ratios[-1] < 0.45
        if e.kind == "budget_overspend":
            assert 1 <= e.start.day <= 3
        for d in (e.start - ONE_DAY, e.end + ONE_DAY):  # untouched the day before and the day after
            assert world.day(c, d) is not None and world.day(c, d) == world.baseline(c, d), (e.event_id, d)


def test_benign_events_are_in_the_data_as_labelled(world):
    for e in world.events:
        if e.incident:
            continue
        assert e.kind in BENIGN_KINDS and e.declared == (e.kind in ("launch", "budget_increase"))
        if e.kind == "holiday":
            assert e.platform is None and e.campaign_id is None
            for c in (c for c in world.campaigns if c.workspace_id == e.workspace_id and not c.launch):
                d = e.end
                if _events_on(world, c, d) == [e]:
                    assert world.day(c, d)["spend"] == pytest.approx(e.detail["spend"] * world.baseline(c, d)["spend"], abs=0.02)
            continue
        c = _campaign_of(world, e)
        if e.kind == "launch":
            assert c.launch == e.start and e.end == e.start + 13 * ONE_DAY
            assert world.day(c, e.start - ONE_DAY) is None and world.baseline(c, e.start - ONE_DAY) is None
            first, fifth = world.day(c, e.start), world.day(c, e.start + 4 * ONE_DAY)
            assert first["spend"] == pytest.approx(0.4 * world.baseline(c, e.start)["spend"], abs=0.01)
            assert fifth == world.baseline(c, e.start + 4 * ONE_DAY)
        elif e.kind == "budget_increase":
            assert e.end == e.start + 13 * ONE_DAY
            assert world.day(c, e.start - ONE_DAY) == world.baseline(c, e.start - ONE_DAY)
            for d in (e.start, e.end, e.end + 20 * ONE_DAY):  # the step persists after its labelled window
                if d <= world.end and _events_on(world, c, d) == [e]:
                    assert world.day(c, d)["spend"] == pytest.approx(e.detail["factor"] * world.baseline(c, d)["spend"], abs=0.02)
        elif e.kind == "pause":
            assert 5 <= (e.end - e.start).days + 1 <= 12
            assert all(world.day(c, d) is None and world.baseline(c, d) is not None for d in _days(e.start, e.end))
            for d in (e.start - ONE_DAY, e.end + ONE_DAY):
                if d <= world.end:
                    assert world.day(c, d) is not None


def test_counts_spacing_and_placement_of_events(world):
    counts = Counter((e.workspace_id, e.kind) for e in world.events)
    for ws in world.workspaces:
        for kind in (*INCIDENT_KINDS, "launch", "budget_increase", "pause"):
            assert counts[(ws.workspace_id, kind)] >= 2, (ws.workspace_id, kind)
        assert counts[(ws.workspace_id, "holiday")] >= 1
    assert sum(e.incident for e in world.events) >= 56
    assert len({e.event_id for e in world.events}) == len(world.events)
    assert [e.start for e in world.events] == sorted(e.start for e in world.events)

    scored_start = world.end - timedelta(days=244)
    holidays = [e for e in world.events if e.kind == "holiday"]
    by_campaign: dict[tuple, list] = {}
    for e in world.events:
        if e.campaign_id is None:
            continue
        assert scored_start <= e.start and e.end <= world.end, e
        by_campaign.setdefault((e.platform, e.campaign_id), []).append(e)
        if e.incident:
            c = _campaign_of(world, e)
            assert world.levels(c).daily_spend >= 150
            assert c.launch is None or e.start >= c.launch + timedelta(days=28)
            for h in holidays:
                if h.workspace_id == e.workspace_id:
                    assert e.end < h.start or e.start > h.end, (e.event_id, h.event_id)  # never on a holiday
    for events in by_campaign.values():
        events.sort(key=lambda e: e.start)
        for a, b in zip(events, events[1:], strict=False):
            assert (b.start - a.end).days > 10, (a.event_id, b.event_id)
        steps = [e for e in events if e.kind == "budget_increase"]
        assert not steps or events[-1] is steps[0]  # nothing else happens to a campaign after its budget step


def test_the_noise_is_heavy_tailed_not_bounded(world):
    deviating = total = 0
    for c in world.campaigns:
        spends = []
        for d in _days(world.start, world.end):
            if not _events_on(world, c, d) and (c.launch is None or d >= c.launch):
                spends.append(world.day(c, d)["spend"])
        median = statistics.median(spends)
        deviating += sum(abs(s / median - 1) > 0.35 for s in spends)
        total += len(spends)
    assert total > 10_000
    assert deviating / total > 0.005  # sandbox/world.py's bounded wobble gives 0


def test_holidays_lift_spend_and_ramadan_is_saudi_only(world):
    bfcm = [e for e in world.events if e.kind == "holiday" and e.start == date(2026, 11, 27)]
    assert len(bfcm) == 4 and all(e.end == date(2026, 11, 30) for e in bfcm)
    assert {e.workspace_id: e.detail["name"] for e in bfcm}["ws_4"] == "White Friday"
    assert {e.detail["name"] for e in bfcm if e.workspace_id != "ws_4"} == {"Black Friday - Cyber Monday"}
    for e in bfcm:
        campaigns = [c for c in world.campaigns if c.workspace_id == e.workspace_id]

        def spend(first, campaigns=campaigns):
            return sum((world.day(c, d) or {"spend": 0})["spend"] for c in campaigns for d in _days(first, first + 3 * ONE_DAY))

        lifted = spend(e.start)
        assert lifted > spend(e.start - 7 * ONE_DAY) and lifted > spend(e.start - 14 * ONE_DAY), e.workspace_id

    ramadan = [e for e in world.events if e.kind == "holiday" and e.detail["name"] == "Ramadan"]
    assert [(e.workspace_id, e.start, e.end) for e in ramadan] == [("ws_4", date(2026, 2, 18), date(2026, 3, 19))]
    saudi = [c for c in world.campaigns if c.workspace_id == "ws_4" and c.launch is None]
    during = sum(world.day(c, d)["spend"] for c in saudi for d in _days(date(2026, 2, 23), date(2026, 3, 8)))
    before = sum(world.day(c, d)["spend"] for c in saudi for d in _days(date(2026, 1, 19), date(2026, 2, 1)))
    assert during > before
    summer = RealisticWorld(date(2026, 4, 1), days=200)
    assert not [e for e in summer.events if e.kind == "holiday" and e.detail["name"] == "Ramadan"]


def test_planned_changes_are_exactly_the_declared_events(world):
    for ws in world.workspaces:
        declared = [e for e in world.events if e.workspace_id == ws.workspace_id and e.declared]
        assert {e.kind for e in declared} == {"launch", "budget_increase"}
        changes = world.planned_changes(ws.workspace_id)
        assert changes == [
            {
                "kind": {"launch": "launch", "budget_increase": "budget_step"}[e.kind],
                "start": e.start,
                "end": e.end,
                "platform": e.platform,
                "campaign_id": e.campaign_id,
                "note": e.event_id,
            }
            for e in declared
        ]
    assert all(not e.declared for e in world.events if e.kind in ("holiday", "pause") or e.incident)


def test_a_smaller_world_keeps_the_rules():
    small = RealisticWorld(date(2026, 1, 5), workspaces=2, campaigns=20, seed=5)
    assert [w.currency for w in small.workspaces] == ["USD", "SAR"]
    counts = Counter((e.workspace_id, e.kind) for e in small.events)
    assert all(counts[(ws.workspace_id, kind)] >= 2 for ws in small.workspaces for kind in INCIDENT_KINDS)
    for e in small.events:
        if e.incident:
            c = _campaign_of(small, e)
            for d in (e.start - ONE_DAY, e.end + ONE_DAY):
                assert small.day(c, d) is not None and small.day(c, d) == small.baseline(c, d)
