"""A realistic synthetic ad world with labelled incidents and benign events, to measure alert quality.

Why: ``sandbox/world.py`` keeps every ordinary day inside a bounded wobble, so its injected
anomalies are the only thing that stands out. Real accounts are noisier: heavy-tailed days,
slow drift, weekly cycles, holidays, launches, budget steps and pauses. A detector tuned on
the demo world alone would flood people on real data. This world has all of that, and its
incidents are labelled exactly (kind, campaign, first and last day), so ``make evaluate`` can
count hits, misses and false alarms.

Determinism: every draw comes from a ``random.Random`` seeded by a hash of
``(seed, parts...)`` (``seeded_random`` in sandbox/world.py, as the demo world's). A campaign-day's numbers use
only its own stream, so any campaign-day can be computed on its own, in any order, and the
same arguments always give the same world.

The world (defaults: 4 workspaces, 40 campaigns, 365 days):

- Workspaces ``ws_1`` .. ``ws_n``: USD/US, EUR/DE, GBP/GB (cycling), and the last one is
  always the Saudi one (SAR, Asia/Riyadh, ``SA``). The platforms are the modules of
  ``sandbox/platforms/`` that name a ``REALISTIC`` profile (``RealisticProfile``: ids, campaign
  names, levels, wire record). Every workspace has the core ones (Meta and Google Ads); a
  platform whose profile alternates is in every other workspace (Amazon Ads in ws_1, ws_3, ...,
  the other in ws_2, ws_4, ...) and the Saudi one has them all. One account per workspace and
  platform; ~campaigns/workspaces campaigns per workspace, rotating over its platforms with the
  core ones twice, so most are on Meta and Google Ads.
- Campaign levels: normal daily spend lognormal (median 450, clipped to 80-3000 in the
  account currency; each workspace's last campaign is a small one, 80-150), platform-typical
  CPM, CTR, CVR and a ROAS target from which the AOV follows (each profile's ``levels``: Meta
  CTR ~1.2%, Google search CTR 3-6%, Google Shopping/PMax ~1%, Amazon CTR ~0.4% and ACOS
  0.2-0.35; ROAS 2.2-5). Ad prices scale with a per-currency price level (Saudi auctions are
  cheaper in dollars). ``monthly_budget`` is 30.4 x the normal daily spend, rounded to tens.

Daily model (multiplicative on the campaign's levels; ``t`` = days since the world's start)::

    spend       = daily_spend * weekday_spend[dow] * exp(drift(t) + 0.10 * N) * shock
    impressions = 1000 * spend / (cpm * exp(t5(0.08)))
    clicks      ~ Poisson(impressions * ctr * exp(t5(0.08)))
    conversions ~ Poisson(clicks * cvr * weekday_cvr[dow] * exp(cvr_drift(t) + 0.05 * N))
    value       = conversions * aov * lognormal(0, 0.35 / sqrt(max(conversions, 1)))

``drift`` is a sinusoid plus a linear trend on the log scale (amplitude <= 8%, period
90-180 days, trend <= +-8% a year: at most ~4% a week). ``shock``: with probability 1/60 a
campaign-day moves by +-(25% + Exp(mean 12%)), capped at 75%. ``t5(s)`` is a Student-t
with 5 degrees of freedom scaled to standard deviation ``s``. Poisson: Knuth below 30, a
rounded normal approximation above. Google Ads conversions are fractional (data-driven
credit: the whole count x U(0.92, 1.04), 2 decimals); the other platforms report whole
purchases.

Events are plain data (``Event``) and act as multipliers on the baseline's drawn numbers
(spend, impressions, clicks, conversions, value), never as new draws: counts under an event
are the baseline counts scaled and rounded, so ``baseline()`` is exactly ``day()`` without
events and each label's effect is exact. Conversion value is 0 whenever the reported
conversions are.

Benign events (``declared``: launch and budget_increase are declared by the workspace as
planned changes, see ``planned_changes``; holidays and pauses are not):

- ``holiday`` (workspace-wide, platform and campaign None): Black Friday to Cyber Monday
  (White Friday for the Saudi workspace, same dates): spend x1.5-2.0, CVR x1.3-1.6, CPM
  x1.2 (auctions are dearer, so impressions grow less than spend); Ramadan for the Saudi
  workspace: spend x1.2, CVR x1.15, CPM x1.1. Clipped to the world.
- ``launch``: the campaign has no rows before its ``launch``; spend (and everything with
  it) ramps 40%, 55%, 70%, 85%, 100% over its first 5 days. Label: launch .. launch + 13.
- ``budget_increase``: spend, impressions and clicks x1.5-1.8 and conversions and value
  x(factor x 0.95) from its start to the end of the world. Label: start .. start + 13.
  Such a campaign's ``monthly_budget`` is 1.9 x 30.4 x its normal daily spend throughout
  (simpler than a budget that changes by month; it under-paces before the step).
- ``pause``: 5-12 days with no rows at all.

Incidents (never declared):

- ``ctr_collapse`` (2-4 days): clicks, conversions and value x0.25-0.4; impressions and
  spend unchanged.
- ``spend_spike_no_conversions`` (1-2 days): spend x2.5-4, impressions and clicks x1.2,
  conversions and value 0.
- ``tracking_broken`` (3-5 days): conversions and value 0, delivery normal.
- ``roas_collapse`` (3-5 days): conversions x0.4 and value x0.3.
- ``budget_overspend`` (6-10 days from day 1-3 of a month): spend, impressions and clicks
  x1.7-2.2, conversions and value x1.1.
- ``gradual_decline`` (7 days): conversions and value x(1 - 0.65 * k / 7) on day k.
- ``stops_reporting`` (3-6 days): no row, while the account's other campaigns report.

Placement: launches, budget steps and pauses (2 each per workspace) and incidents (2 of
each kind per workspace) fall in the last 245 days (the scored window; the rest is history).
On one campaign, the labelled windows of any two events, and those of its events and its
workspace's holidays, are more than 10 days apart; nothing else happens to a campaign after
its budget step starts (the step persists, so later events would not compare cleanly with
``baseline()``); incidents start 28 days or more after a launch, end before the world's
last day and hit only campaigns whose normal daily spend is >= 150 and that expect >= 3
conversions a day (an incident no one could see in the data would not be a fair label).
So on the day before and after an incident the campaign reports its baseline exactly.
A world too small to hold every event gets fewer.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sandbox.platforms import ad_traits, declared
from sandbox.platforms.base import RealisticProfile
from sandbox.world import seeded_random

INCIDENT_KINDS = (
    "ctr_collapse",
    "spend_spike_no_conversions",
    "tracking_broken",
    "roas_collapse",
    "budget_overspend",
    "gradual_decline",
    "stops_reporting",
)
BENIGN_KINDS = ("launch", "budget_increase", "holiday", "pause")


def platform_profiles() -> dict[str, RealisticProfile]:
    """The world's platforms: each module of ``sandbox/platforms/`` that names its ``REALISTIC`` profile, in rotation order."""
    found = declared("REALISTIC")
    return dict(sorted(found.items(), key=lambda item: item[1].rotation))


PROFILES = platform_profiles()
PLATFORMS = tuple(PROFILES)

# (currency, time zone, country); the Saudi profile is always the last workspace's.
WORKSPACE_PROFILES = (("USD", "America/New_York", "US"), ("EUR", "Europe/Berlin", "DE"), ("GBP", "Europe/London", "GB"))
SAUDI_PROFILE = ("SAR", "Asia/Riyadh", "SA")
# Ad prices in the account currency relative to US prices in dollars.
PRICE_LEVEL = {"USD": 1.0, "EUR": 0.95, "GBP": 0.85, "SAR": 2.25}

# Weekday multipliers, Monday .. Sunday: (spend, conversion rate). Search: weekend spend -8%;
# social: +5%; retail (Amazon): shoppers buy a little more at the weekend.
WEEKDAY = {
    "social": ((0.99, 0.98, 0.98, 0.99, 1.00, 1.04, 1.04), (1.00, 1.00, 1.00, 0.99, 0.97, 1.02, 1.04)),
    "search": ((1.02, 1.02, 1.02, 1.01, 0.99, 0.93, 0.93), (1.03, 1.02, 1.01, 1.00, 0.97, 0.94, 0.97)),
    "retail": ((0.99, 0.99, 0.99, 0.99, 1.00, 1.02, 1.03), (0.98, 0.98, 0.99, 0.99, 1.00, 1.03, 1.04)),
}

SPEND_SIGMA = 0.10  # log-normal daily spend noise
PRICE_SIGMA = 0.08  # CPM and CTR noise (Student-t on the log scale)
CVR_SIGMA = 0.05  # day-level conversion-rate noise on top of the Poisson counts
T_DOF = 5
SHOCK_PROBABILITY = 1 / 60
SHOCK_MIN, SHOCK_MEAN_EXCESS, SHOCK_MAX = 0.25, 0.12, 0.75
AOV_SIGMA = 0.35

SCORED_DAYS = 245  # events fall in the world's last 245 days
GAP_DAYS = 10  # clear days between two labelled windows on one campaign (and around holidays)
LAUNCH_LABEL_DAYS = 14
RAMP_FROM, RAMP_DAYS = 0.4, 5
INCIDENT_AFTER_LAUNCH_DAYS = 28
INCIDENT_MIN_SPEND = 150.0
INCIDENT_MIN_CONVERSIONS = 3.0
EVENTS_PER_KIND = 2  # per workspace, for launch, budget_increase, pause and every incident kind

INCIDENT_DAYS = {
    "ctr_collapse": (2, 4),
    "spend_spike_no_conversions": (1, 2),
    "tracking_broken": (3, 5),
    "roas_collapse": (3, 5),
    "budget_overspend": (6, 10),
    "gradual_decline": (7, 7),
    "stops_reporting": (3, 6),
}
# The most constrained kinds are placed first.
PLACEMENT_ORDER = (
    "budget_overspend",
    "gradual_decline",
    "stops_reporting",
    "tracking_broken",
    "roas_collapse",
    "ctr_collapse",
    "spend_spike_no_conversions",
)
PAUSE_DAYS = (5, 12)
GRADUAL_DECLINE_DROP = 0.65

# Ramadan (Saudi calendar), first and last day.
RAMADAN = {
    2024: (date(2024, 3, 11), date(2024, 4, 9)),
    2025: (date(2025, 3, 1), date(2025, 3, 29)),
    2026: (date(2026, 2, 18), date(2026, 3, 19)),
    2027: (date(2027, 2, 8), date(2027, 3, 9)),
}


@dataclass(frozen=True)
class Workspace:
    workspace_id: str
    currency: str
    timezone: str
    country: str


@dataclass(frozen=True)
class Campaign:
    """A campaign as the platform lists it, with its launch day and planned monthly budget (account currency)."""

    workspace_id: str
    platform: str
    account_id: str
    campaign_id: str
    campaign_name: str
    currency: str
    launch: date | None  # first day it delivers (None: delivering from the world's start)
    monthly_budget: float

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.platform, self.account_id, self.campaign_id)


@dataclass(frozen=True)
class Levels:
    """A campaign's normal economics and the shape of its movement (money in the account currency)."""

    daily_spend: float
    cpm: float
    ctr: float
    cvr: float
    aov: float
    weekday: str  # a key of WEEKDAY
    spend_drift: tuple[float, float, float, float]  # amplitude, period (days), phase, trend per year (log scale)
    cvr_drift: tuple[float, float, float]  # amplitude, period (days), phase

    @property
    def roas(self) -> float:
        return self.aov * self.cvr * self.ctr * 1000.0 / self.cpm

    @property
    def conversions_per_day(self) -> float:
        return self.daily_spend * 1000.0 / self.cpm * self.ctr * self.cvr


@dataclass(frozen=True)
class Event:
    """One labelled change: an incident, or a benign event an alerting system should not page about."""

    event_id: str
    kind: str
    incident: bool
    workspace_id: str
    platform: str | None  # None for workspace-wide events (holidays)
    account_id: str | None
    campaign_id: str | None  # None for workspace-wide events
    start: date  # first affected day (inclusive)
    end: date  # last affected day (inclusive)
    declared: bool  # a planned change the workspace declared (launch, budget_increase)
    detail: dict = field(default_factory=dict, hash=False)


def black_friday_to_cyber_monday(year: int) -> tuple[date, date]:
    """The Friday after the fourth Thursday of November (US Thanksgiving) and the following Monday."""
    first = date(year, 11, 1)
    thanksgiving = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
    return thanksgiving + timedelta(days=1), thanksgiving + timedelta(days=4)


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw: Knuth's product of uniforms below 30, a rounded normal approximation above."""
    if lam <= 0.0:
        return 0
    if lam < 30.0:
        limit = math.exp(-lam)
        k, p = 0, rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        return k
    return max(0, round(lam + math.sqrt(lam) * rng.gauss(0.0, 1.0)))


def _heavy(rng: random.Random, sigma: float) -> float:
    """A Student-t draw (T_DOF degrees of freedom) scaled to standard deviation ``sigma``: heavy tails, no bound."""
    t = rng.gauss(0.0, 1.0) / math.sqrt(rng.gammavariate(T_DOF / 2.0, 2.0) / T_DOF)
    return sigma * t / math.sqrt(T_DOF / (T_DOF - 2.0))


def _gap_ok(start: date, end: date, windows: list[tuple[date, date]]) -> bool:
    """True when [start, end] is more than GAP_DAYS days away from every window."""
    gap = timedelta(days=GAP_DAYS)
    return all(start > e + gap or end < s - gap for s, e in windows)


class RealisticWorld:
    """Workspaces, campaigns and labelled events over ``days`` days from ``start`` (see the module docstring)."""

    def __init__(self, start: date, days: int = 365, workspaces: int = 4, campaigns: int = 40, seed: int = 11):
        if days < 1 or workspaces < 1 or campaigns < workspaces:
            raise ValueError("need days >= 1, workspaces >= 1 and at least one campaign per workspace")
        self.start = start
        self.days = days
        self.end = start + timedelta(days=days - 1)
        self.seed = seed
        self.scored_start = max(start, self.end - timedelta(days=SCORED_DAYS - 1))
        self.workspaces = [self._workspace(i, workspaces) for i in range(workspaces)]
        holidays = self._holidays()
        self._holidays_by_ws: dict[str, list[Event]] = {w.workspace_id: [] for w in self.workspaces}
        for event in holidays:
            self._holidays_by_ws[event.workspace_id].append(event)
        self._levels: dict[tuple[str, str, str], Levels] = {}
        self.campaigns = self._make_campaigns(campaigns)
        placed = self._place_events()
        self.events = self._number(holidays + placed)
        stepped = {(e.platform, e.account_id, e.campaign_id) for e in self.events if e.kind == "budget_increase"}
        self.campaigns = [
            replace(c, monthly_budget=self._monthly_budget(self._levels[c.key].daily_spend, 1.9)) if c.key in stepped else c
            for c in self.campaigns
        ]
        self._by_key = {c.key: c for c in self.campaigns}
        self._events_by_campaign: dict[tuple[str, str, str], list[Event]] = {}
        for event in self.events:
            if event.campaign_id is not None:
                self._events_by_campaign.setdefault((event.platform, event.account_id, event.campaign_id), []).append(event)

    # -- lookup -------------------------------------------------------------

    def _rng(self, *parts: object) -> random.Random:
        return seeded_random(self.seed, *parts)

    def campaign(self, platform: str, account_id: str, campaign_id: str) -> Campaign:
        try:
            return self._by_key[(platform, str(account_id), str(campaign_id))]
        except KeyError:
            raise KeyError(f"no {platform} campaign {campaign_id} in account {account_id}") from None

    def levels(self, c: Campaign) -> Levels:
        """The campaign's normal economics (daily spend, CPM, CTR, CVR, AOV) and drift."""
        return self._levels[c.key]

    def events_of(self, c: Campaign) -> list[Event]:
        """The campaign's own events and its workspace's holidays, by start."""
        own = self._events_by_campaign.get(c.key, [])
        return sorted(own + self._holidays_by_ws[c.workspace_id], key=lambda e: (e.start, e.event_id))

    # -- numbers ------------------------------------------------------------

    def _raw(self, c: Campaign, day: date) -> tuple[float, float, int, float, float] | None:
        """The campaign-day's drawn numbers before rounding and events: spend, impressions, clicks, conversions, value."""
        if day < self.start or day > self.end or (c.launch is not None and day < c.launch):
            return None
        lv = self._levels[c.key]
        rng = self._rng(*c.key, day.isoformat())
        t = (day - self.start).days
        weekday_spend, weekday_cvr = WEEKDAY[lv.weekday]
        dow = day.weekday()

        amplitude, period, phase, trend = lv.spend_drift
        drift = amplitude * math.sin(2.0 * math.pi * t / period + phase) + trend * (t - self.days / 2.0) / 365.0
        noise = SPEND_SIGMA * rng.gauss(0.0, 1.0)
        shock = 1.0
        if rng.random() < SHOCK_PROBABILITY:
            size = min(SHOCK_MIN + rng.expovariate(1.0 / SHOCK_MEAN_EXCESS), SHOCK_MAX)
            shock = 1.0 + size if rng.random() < 0.5 else 1.0 - size
        spend = lv.daily_spend * weekday_spend[dow] * math.exp(drift + noise) * shock

        cpm = lv.cpm * math.exp(_heavy(rng, PRICE_SIGMA))
        ctr = min(0.5, lv.ctr * math.exp(_heavy(rng, PRICE_SIGMA)))
        cvr_amplitude, cvr_period, cvr_phase = lv.cvr_drift
        cvr_log = cvr_amplitude * math.sin(2.0 * math.pi * t / cvr_period + cvr_phase) + CVR_SIGMA * rng.gauss(0.0, 1.0)
        cvr = min(0.9, lv.cvr * weekday_cvr[dow] * math.exp(cvr_log))

        impressions = 1000.0 * spend / cpm
        clicks = _poisson(rng, impressions * ctr)
        conversions: float = _poisson(rng, clicks * cvr)
        credit = rng.uniform(0.92, 1.04)
        z = rng.gauss(0.0, 1.0)
        if ad_traits()[c.platform].fractional_conversions:
            conversions *= credit
        value = conversions * lv.aov * math.exp(AOV_SIGMA / math.sqrt(max(conversions, 1.0)) * z) if conversions else 0.0
        return spend, impressions, clicks, conversions, value

    def _report(self, c: Campaign, day: date, raw: tuple, factors: tuple[float, ...] = (1.0,) * 5) -> dict:
        """The drawn numbers scaled by ``factors`` (spend, impressions, clicks, conversions, value), rounded as reported."""
        spend, impressions, clicks, conversions, value = (x * f for x, f in zip(raw, factors, strict=True))
        impressions = round(impressions)
        conversions = round(conversions, 2) if ad_traits()[c.platform].fractional_conversions else round(conversions)
        return {
            "spend": round(spend, 2),
            "impressions": impressions,
            "clicks": min(round(clicks), impressions),
            "conversions": conversions,
            "conversion_value": round(value, 2) if conversions else 0.0,
        }

    def baseline(self, c: Campaign, day: date) -> dict | None:
        """The campaign-day without any event (incident or benign) applied; None before launch or outside the world."""
        raw = self._raw(c, day)
        return None if raw is None else self._report(c, day, raw)

    def day(self, c: Campaign, day: date) -> dict | None:
        """The campaign-day as reported, every event applied; None when the platform reports no row that day."""
        raw = self._raw(c, day)
        if raw is None:
            return None
        factors = [1.0] * 5
        for event in (*self._events_by_campaign.get(c.key, ()), *self._holidays_by_ws[c.workspace_id]):
            if day < event.start or (day > event.end and event.kind != "budget_increase"):
                continue
            effect = self.effect(event, day)
            if effect is None:
                return None
            factors = [a * b for a, b in zip(factors, effect, strict=True)]
        return self._report(c, day, raw, tuple(factors))

    @staticmethod
    def effect(event: Event, day: date) -> tuple[float, float, float, float, float] | None:
        """The event's factors on (spend, impressions, clicks, conversions, value) that day; None: no row."""
        kind, x = event.kind, event.detail
        i = (day - event.start).days  # 0 on the first day
        if kind in ("pause", "stops_reporting"):
            return None
        if kind == "launch":
            r = RAMP_FROM + (1.0 - RAMP_FROM) * i / (RAMP_DAYS - 1) if i < RAMP_DAYS else 1.0
            return (r, r, r, r, r)
        if kind == "budget_increase":
            f = x["factor"]
            return (f, f, f, f * x["cvr_factor"], f * x["cvr_factor"])
        if kind == "holiday":
            s, reach = x["spend"], x["spend"] / x["cpm"]
            return (s, reach, reach, reach * x["cvr"], reach * x["cvr"])
        if kind == "ctr_collapse":
            f = x["factor"]
            return (1.0, 1.0, f, f, f)
        if kind == "spend_spike_no_conversions":
            return (x["factor"], x["traffic_factor"], x["traffic_factor"], 0.0, 0.0)
        if kind == "tracking_broken":
            return (1.0, 1.0, 1.0, 0.0, 0.0)
        if kind == "roas_collapse":
            return (1.0, 1.0, 1.0, x["conversions_factor"], x["value_factor"])
        if kind == "budget_overspend":
            f = x["factor"]
            return (f, f, f, x["conversions_factor"], x["conversions_factor"])
        if kind == "gradual_decline":
            g = 1.0 - GRADUAL_DECLINE_DROP * (i + 1) / x["days"]
            return (1.0, 1.0, 1.0, g, g)
        raise ValueError(f"unknown event kind {kind!r}")

    def rows(self) -> Iterator[dict]:
        """Every reported campaign-day of the world, by date, then in campaign order."""
        for offset in range(self.days):
            d = self.start + timedelta(days=offset)
            for c in self.campaigns:
                metrics = self.day(c, d)
                if metrics is None:
                    continue
                yield {
                    "workspace_id": c.workspace_id,
                    "platform": c.platform,
                    "account_id": c.account_id,
                    "campaign_id": c.campaign_id,
                    "campaign_name": c.campaign_name,
                    "currency": c.currency,
                    "date": d,
                    **metrics,
                }

    def planned_changes(self, workspace_id: str) -> list[dict]:
        """The workspace's declared events as registry ``planned_changes`` entries (note: the event id)."""
        if workspace_id not in self._holidays_by_ws:
            raise KeyError(f"no workspace {workspace_id!r} in this world")
        return [
            {
                "kind": "budget_step" if e.kind == "budget_increase" else e.kind,
                "start": e.start,
                "end": e.end,
                "platform": e.platform,
                "campaign_id": e.campaign_id,
                "note": e.event_id,
            }
            for e in self.events
            if e.declared and e.workspace_id == workspace_id
        ]

    # -- building the world -------------------------------------------------

    def _workspace(self, index: int, count: int) -> Workspace:
        saudi = index == count - 1
        currency, timezone, country = SAUDI_PROFILE if saudi else WORKSPACE_PROFILES[index % len(WORKSPACE_PROFILES)]
        return Workspace(f"ws_{index + 1}", currency, timezone, country)

    def _holidays(self) -> list[Event]:
        """BFCM (White Friday in Saudi Arabia) for every workspace, Ramadan for the Saudi one: whatever overlaps the world."""
        events = []
        for ws in self.workspaces:
            saudi = ws.country == "SA"
            for year in range(self.start.year, self.end.year + 1):
                rng = self._rng("holiday", ws.workspace_id, year)
                spend, cvr = round(rng.uniform(1.5, 2.0), 3), round(rng.uniform(1.3, 1.6), 3)
                windows = [
                    (
                        "White Friday" if saudi else "Black Friday - Cyber Monday",
                        "bfcm",
                        black_friday_to_cyber_monday(year),
                        spend,
                        cvr,
                        1.2,
                    )
                ]
                if saudi and year in RAMADAN:
                    windows.append(("Ramadan", "ramadan", RAMADAN[year], 1.2, 1.15, 1.1))
                for name, slug, (first, last), spend_f, cvr_f, cpm_f in windows:
                    start, end = max(first, self.start), min(last, self.end)
                    if start > end:
                        continue
                    detail = {"name": name, "spend": spend_f, "cvr": cvr_f, "cpm": cpm_f}
                    event_id = f"hol-{ws.workspace_id}-{slug}-{year}"
                    events.append(Event(event_id, "holiday", False, ws.workspace_id, None, None, None, start, end, False, detail))
        return events

    def _numeric_id(self, shape: tuple[str, int], taken: set[str], *parts: object) -> str:
        """A stable numeric id of the platform's shape, not in ``taken`` (which it joins)."""
        prefix, width = shape
        digits = width - len(prefix)
        attempt = 0
        while True:
            n = self._rng("id", *parts, attempt).randrange(10 ** (digits - 1), 10**digits)
            candidate = f"{prefix}{n}"
            if candidate not in taken:
                taken.add(candidate)
                return candidate
            attempt += 1

    @staticmethod
    def _monthly_budget(daily_spend: float, factor: float = 1.0) -> float:
        """``factor`` x 30.4 x the normal daily spend, rounded to tens as people set budgets."""
        return float(round(factor * 30.4 * daily_spend / 10.0) * 10)

    def _make_campaigns(self, total: int) -> list[Campaign]:
        """~total/workspaces campaigns per workspace over its platforms; 2 per workspace launch mid-world."""
        campaigns: list[Campaign] = []
        account_ids: set[str] = set()
        campaign_ids: dict[str, set[str]] = {p: set() for p in PLATFORMS}
        count = len(self.workspaces)
        core = [p for p, profile in PROFILES.items() if profile.alternate is None]
        for index, ws in enumerate(self.workspaces):
            saudi = ws.country == "SA"
            extras = [p for p, profile in PROFILES.items() if profile.alternate is not None and (index % 2 == profile.alternate or saudi)]
            pattern = [*core, *extras, *core]
            n = total // count + (1 if index < total % count else 0)
            accounts = {
                p: self._numeric_id(PROFILES[p].account_id, account_ids, "account", ws.workspace_id, p) for p in [*core, *extras]
            }
            rng = self._rng("campaigns", ws.workspace_id)
            launching = set(rng.sample(range(n - 1), min(EVENTS_PER_KIND, n - 1))) if n > 1 else set()
            per_platform: dict[str, int] = {}
            launches = 0
            for j in range(n):
                platform = pattern[j % len(pattern)]
                k = per_platform[platform] = per_platform.get(platform, -1) + 1
                templates = PROFILES[platform].campaign_names
                name = templates[k % len(templates)] + (f" {k // len(templates) + 1}" if k >= len(templates) else "")
                key_parts = (ws.workspace_id, platform, j)
                campaign_id = self._numeric_id(PROFILES[platform].campaign_id, campaign_ids[platform], "campaign", *key_parts)
                levels = self._draw_levels(platform, name, ws.currency, small=n > 2 and j == n - 1, parts=key_parts)
                launch = None
                if j in launching:
                    launch, launches = self._launch_day(ws, launches), launches + 1
                c = Campaign(
                    workspace_id=ws.workspace_id,
                    platform=platform,
                    account_id=accounts[platform],
                    campaign_id=campaign_id,
                    campaign_name=name,
                    currency=ws.currency,
                    launch=launch,
                    monthly_budget=self._monthly_budget(levels.daily_spend),
                )
                self._levels[c.key] = levels
                campaigns.append(c)
        return campaigns

    def _launch_day(self, ws: Workspace, nth: int) -> date | None:
        """A launch day in the scored window (the first launch in its first half, the next in its second), clear of holidays."""
        rng = self._rng("launch", ws.workspace_id, nth)
        latest = self.end - timedelta(days=LAUNCH_LABEL_DAYS - 1 + 30)
        span = (latest - self.scored_start).days
        if span < 2:
            return None
        half = span // 2
        lo, hi = (0, half) if nth % 2 == 0 else (half, span)
        holidays = [(e.start, e.end) for e in self._holidays_by_ws[ws.workspace_id]]
        for _ in range(500):
            launch = self.scored_start + timedelta(days=rng.randrange(lo, hi + 1))
            if _gap_ok(launch, launch + timedelta(days=LAUNCH_LABEL_DAYS - 1), holidays):
                return launch
        return None

    def _draw_levels(self, platform: str, name: str, currency: str, small: bool, parts: tuple) -> Levels:
        """Platform-typical levels: CTR, CPC (or CPM), CVR and a ROAS target, from which the AOV follows."""
        rng = self._rng("levels", *parts)
        daily_spend = rng.uniform(80.0, 150.0) if small else min(3000.0, max(80.0, math.exp(rng.gauss(math.log(450.0), 0.75))))
        price = PRICE_LEVEL[currency]
        weekday, ctr, cpm, cvr, roas = PROFILES[platform].levels(rng, name)
        cpm *= price
        aov = roas * cpm / (1000.0 * ctr * cvr)
        spend_drift = (
            rng.uniform(0.0, 0.08),
            rng.uniform(90.0, 180.0),
            rng.uniform(0.0, 2.0 * math.pi),
            rng.uniform(-0.08, 0.08),
        )
        cvr_drift = (rng.uniform(0.0, 0.06), rng.uniform(90.0, 180.0), rng.uniform(0.0, 2.0 * math.pi))
        return Levels(round(daily_spend, 2), cpm, ctr, cvr, aov, weekday, spend_drift, cvr_drift)

    def _place_events(self) -> list[Event]:
        """Launch, budget_increase and pause events, then incidents, per workspace (rules in the module docstring)."""
        events: list[Event] = []
        for ws in self.workspaces:
            rng = self._rng("events", ws.workspace_id)
            campaigns = [c for c in self.campaigns if c.workspace_id == ws.workspace_id]
            windows: dict[tuple, list[tuple[date, date]]] = {c.key: [] for c in campaigns}
            no_rows: dict[str, list[tuple[date, date, tuple]]] = {}  # account -> paused / silent windows
            step_start: dict[tuple, date] = {}
            holidays = [(e.start, e.end) for e in self._holidays_by_ws[ws.workspace_id]]

            def add(c: Campaign, kind: str, start: date, end: date, detail: dict, windows=windows, no_rows=no_rows) -> None:
                incident = kind in INCIDENT_KINDS
                declared = kind in ("launch", "budget_increase")
                events.append(
                    Event(
                        "", kind, incident, c.workspace_id, c.platform, c.account_id, c.campaign_id, start, end, declared, detail
                    )
                )
                windows[c.key].append((start, end))
                if kind in ("pause", "stops_reporting"):
                    no_rows.setdefault(c.account_id, []).append((start, end, c.key))

            def fits(
                c: Campaign, start: date, end: date, incident: bool, windows=windows, step_start=step_start, holidays=holidays
            ) -> bool:
                if start < self.scored_start or end > (self.end - timedelta(days=1) if incident else self.end):
                    return False
                if c.launch is not None and start < c.launch + timedelta(days=INCIDENT_AFTER_LAUNCH_DAYS if incident else 0):
                    return False
                if c.key in step_start and end >= step_start[c.key]:
                    return False
                return _gap_ok(start, end, windows[c.key]) and _gap_ok(start, end, holidays)

            for c in campaigns:
                if c.launch is not None:
                    add(
                        c,
                        "launch",
                        c.launch,
                        c.launch + timedelta(days=LAUNCH_LABEL_DAYS - 1),
                        {"ramp_from": RAMP_FROM, "ramp_days": RAMP_DAYS},
                    )

            span = (self.end - self.scored_start).days + 1
            steady = [c for c in campaigns if c.launch is None]
            for _ in range(EVENTS_PER_KIND):  # budget steps: late enough to leave room for earlier events on the campaign
                for _ in range(1000):
                    c = rng.choice(steady)
                    start = self.scored_start + timedelta(days=rng.randrange(min(60, span // 3), span))
                    end = start + timedelta(days=LAUNCH_LABEL_DAYS - 1)
                    if c.key not in step_start and fits(c, start, end, incident=False):
                        add(c, "budget_increase", start, end, {"factor": round(rng.uniform(1.5, 1.8), 3), "cvr_factor": 0.95})
                        step_start[c.key] = start
                        break

            for _ in range(EVENTS_PER_KIND):
                for _ in range(1000):
                    c = rng.choice(campaigns)
                    start = self.scored_start + timedelta(days=rng.randrange(span))
                    end = start + timedelta(days=rng.randint(*PAUSE_DAYS) - 1)
                    if fits(c, start, end, incident=False) and self._account_reports(c, start, end, no_rows, campaigns):
                        add(c, "pause", start, end, {})
                        break

            eligible = [
                c
                for c in campaigns
                if self._levels[c.key].daily_spend >= INCIDENT_MIN_SPEND
                and self._levels[c.key].conversions_per_day >= INCIDENT_MIN_CONVERSIONS
            ]
            for kind in PLACEMENT_ORDER:
                for _ in range(EVENTS_PER_KIND):
                    for _ in range(2000):
                        if not eligible:
                            break
                        c = rng.choice(eligible)
                        start = self.scored_start + timedelta(days=rng.randrange(span))
                        if kind == "budget_overspend":
                            start = start.replace(day=rng.randint(1, 3))
                        length = rng.randint(*INCIDENT_DAYS[kind])
                        end = start + timedelta(days=length - 1)
                        if not fits(c, start, end, incident=True):
                            continue
                        if kind == "stops_reporting" and not self._account_reports(c, start, end, no_rows, campaigns):
                            continue
                        add(c, kind, start, end, self._incident_detail(kind, length, rng))
                        break
        return events

    def _account_reports(self, c: Campaign, start: date, end: date, no_rows: dict, campaigns: list[Campaign]) -> bool:
        """True when no other campaign of c's account is silent on [start, end] and at least one other delivers throughout."""
        if any(s <= end and start <= e for s, e, key in no_rows.get(c.account_id, []) if key != c.key):
            return False
        return any(o.account_id == c.account_id and o.key != c.key and (o.launch is None or o.launch <= start) for o in campaigns)

    @staticmethod
    def _incident_detail(kind: str, length: int, rng: random.Random) -> dict:
        if kind == "ctr_collapse":
            return {"factor": round(rng.uniform(0.25, 0.4), 3)}
        if kind == "spend_spike_no_conversions":
            return {"factor": round(rng.uniform(2.5, 4.0), 3), "traffic_factor": 1.2}
        if kind == "roas_collapse":
            return {"conversions_factor": 0.4, "value_factor": 0.3}
        if kind == "budget_overspend":
            return {"factor": round(rng.uniform(1.7, 2.2), 3), "conversions_factor": 1.1}
        if kind == "gradual_decline":
            return {"days": length, "final_factor": round(1.0 - GRADUAL_DECLINE_DROP, 2)}
        return {}

    @staticmethod
    def _number(events: list[Event]) -> list[Event]:
        """Events by start, with stable ids: ``inc-NN-<kind>`` for incidents, ``ben-NN-<kind>`` for campaign events."""
        ordered = sorted(events, key=lambda e: (e.start, e.kind, e.workspace_id, e.platform or "", e.campaign_id or ""))
        numbered, counters = [], {"inc": 0, "ben": 0}
        for event in ordered:
            if event.kind == "holiday":
                numbered.append(event)
                continue
            prefix = "inc" if event.incident else "ben"
            counters[prefix] += 1
            numbered.append(replace(event, event_id=f"{prefix}-{counters[prefix]:02d}-{event.kind}"))
        return numbered
