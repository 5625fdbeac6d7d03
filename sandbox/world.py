"""A deterministic synthetic ad world: accounts, campaigns and their daily numbers.

Every number is derived from ``(seed, platform, account, campaign, day)``: a
hash-seeded ``random.Random`` per campaign-day (and per-campaign phases drawn the
same way), so any day can be computed on its own, in any order, and the same seed
always gives the same world.

Daily model per campaign (final values, before restatement)::

    spend       = daily_spend * weekday[dow] * (1 + trend_per_day * age) * wobble_spend(5%)
    conversions = spend / (cpa * wobble_cpa(8%))           cpa  = cpm / (1000 * ctr * cvr)
    clicks      = conversions / (cvr * wobble_cvr(8%))
    impressions = clicks / (ctr * wobble_ctr(5%))
    value       = spend * roas * wobble_roas(7%)            roas = aov / cpa
    reach       = impressions / (frequency * noise(2%))     (platforms that report reach)

``weekday`` dips spend by up to 6% at the weekend. Each scored KPI (spend, CTR,
CVR, CPA, ROAS) moves by its own bounded "wobble": an irrational rotation from a
random per-campaign phase, whose values over any few consecutive weeks spread
evenly over +-sqrt(3)*sigma. That keeps the trailing median and MAD stable, so on
an ordinary day each KPI stays within about 2.5 robust sigmas of its trailing
28-day median, even on the freshest (not yet fully restated) day, and only
injected anomalies stand out. CPM follows from the others. Purchases are whole
numbers, or doubles (two decimals) on a platform that reports fractional
conversions (Google Ads), as the platforms report them.

What differs per platform (its ids, fractional conversions, reach, its own
metrics such as video views) is the platform's ``TRAITS`` in its module of
``sandbox/platforms/`` (``sandbox.platforms.base.AdTraits``); the economics here
are the same for every platform.

Restatement: platforms keep attributing late conversions to a day after it ended.
On the sandbox's ``as_of`` date (its "today") the numbers for day ``d`` are
reported with ``age = (as_of - d).days - 1`` full days elapsed since ``d`` ended:

    age 0 (yesterday)  -> conversions and conversion_value at 92% of final
    age 1              -> 97%
    age >= 2           -> 100% (final)

Spend, impressions, clicks and reach never restate. Days on or after ``as_of``
are not available yet, nor days before the world's ``start_date``.

Ad groups and ads: every campaign has 2-3 ad groups (ad sets, ad squads, creatives:
each platform has its name for them) with 2 ads each, named and numbered like the
platform does (numeric ids of its width, or UUIDs). A campaign-day's additive numbers are split over its ad groups
(and an ad group's over its ads) by per-day weights around fixed shares, in the
metric's own unit (cents, whole clicks, hundredths of a Google conversion), with
largest remainders, so the finer rows always sum exactly to the campaign-day.
Reach is not additive: each ad group has its own.

Injected anomalies are plain data (``Anomaly``) and change one campaign-day:

- ``ctr_collapse``: clicks fall to ~25% at unchanged impressions and spend;
  conversions and value fall with the clicks.
- ``spend_spike``: spend x2.5-3 (impressions and clicks +25%), conversions ~0.55x
  and conversion_value ~0.5x normal, so ROAS collapses.
- ``no_clicks``: impressions and spend as usual, zero clicks, conversions and
  value (useful for exercising zero-valued fields).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from sandbox.platforms import ad_traits

# The world's ad platforms: the modules of sandbox/platforms/ that name their TRAITS.
PLATFORMS = tuple(ad_traits())
ANOMALY_KINDS = ("ctr_collapse", "spend_spike", "no_clicks")

# Fraction of the final conversions / conversion_value reported, by age in days.
RESTATEMENT_FRACTIONS = {0: 0.92, 1: 0.97}

# Monday .. Sunday.
WEEKDAY_SPEND = (1.03, 1.04, 1.03, 1.01, 0.98, 0.94, 0.96)

# Day-to-day variation of the scored KPIs: (rotation step, standard deviation).
WOBBLE = {
    "spend": (0.6180339887498949, 0.05),
    "ctr": (0.4142135623730951, 0.05),
    "cpa": (0.3819660112501051, 0.08),
    "roas": (0.5857864376269049, 0.07),
    "cvr": (0.7320508075688772, 0.08),
}
# Ad group names (a campaign has the first 2 or 3) and ad names (2 per ad group).
AD_GROUP_LABELS = ("Broad", "Lookalike 1%", "Retargeting 30d")
AD_LABELS = ("Video", "Carousel")
# Day-to-day wobble of an ad group's share of its campaign (relative, bounded).
AD_GROUP_SHARE_WOBBLE = 0.15
# The smallest unit each additive metric is split in (money in cents).
SPLIT_QUANTUM = {"spend": 0.01, "conversion_value": 0.01}
SPLIT_QUANTUM_FRACTIONAL_CONVERSIONS = 0.01

# Unscored detail (Meta frequency): plain bounded random noise.
NOISE_FREQUENCY = 0.02


@dataclass(frozen=True)
class Campaign:
    """One campaign and its baseline economics (money in the account currency)."""

    campaign_id: str
    name: str
    daily_spend: float
    cpm: float
    ctr: float
    cvr: float
    aov: float
    frequency: float = 1.3
    trend_per_day: float = 0.0

    @property
    def cpa(self) -> float:
        return self.cpm / (1000.0 * self.ctr * self.cvr)

    @property
    def roas(self) -> float:
        return self.aov / self.cpa


@dataclass(frozen=True)
class Account:
    platform: str
    account_id: str
    workspace_id: str
    currency: str
    timezone: str
    campaigns: tuple[Campaign, ...]
    name: str = ""

    def __post_init__(self) -> None:
        if self.platform not in PLATFORMS:
            raise ValueError(f"unknown platform {self.platform!r}; expected one of {PLATFORMS}")
        object.__setattr__(self, "campaigns", tuple(self.campaigns))

    def campaign(self, campaign_id: str) -> Campaign:
        for campaign in self.campaigns:
            if campaign.campaign_id == campaign_id:
                return campaign
        raise KeyError(f"{self.platform} account {self.account_id} has no campaign {campaign_id}")


@dataclass(frozen=True)
class Ad:
    ad_id: str
    name: str


@dataclass(frozen=True)
class AdGroup:
    """An ad group (ad set, ad squad, ...) of a campaign, with its ads."""

    ad_group_id: str
    name: str
    ads: tuple[Ad, ...]


@dataclass(frozen=True)
class Anomaly:
    kind: str
    platform: str
    account_id: str
    campaign_id: str
    day: date

    def __post_init__(self) -> None:
        if self.kind not in ANOMALY_KINDS:
            raise ValueError(f"unknown anomaly kind {self.kind!r}; expected one of {ANOMALY_KINDS}")


def seeded_random(*parts: object) -> random.Random:
    """A generator seeded by a hash of ``parts``: the same parts give the same draws, in any process."""
    key = "|".join(str(p) for p in parts).encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


def restatement_fraction(day: date, as_of: date) -> float:
    """Share of day's final conversions reported on ``as_of`` (see module docstring)."""
    age = (as_of - day).days - 1
    return RESTATEMENT_FRACTIONS.get(age, 1.0) if age >= 0 else 0.0


def _noise(rng: random.Random, sigma: float) -> float:
    """A multiplicative factor around 1 with standard deviation ``sigma``, bounded tails."""
    half_width = sigma * 3.0**0.5
    return 1.0 + rng.uniform(-half_width, half_width)


@dataclass
class World:
    """Accounts with their campaigns, a seed and the anomalies injected into them.

    ``start_date``: first day with data (``None``: unbounded). ``end_date``: the
    demo's last full day; it also sets the default ``as_of`` (``end_date + 1``).
    Days after ``end_date`` still have data once ``as_of`` moves past them.
    """

    accounts: list[Account]
    seed: int = 42
    anomalies: list[Anomaly] = field(default_factory=list)
    start_date: date | None = None
    end_date: date | None = None

    def __post_init__(self) -> None:
        self.accounts = list(self.accounts)
        self.anomalies = list(self.anomalies)
        self._by_key: dict[tuple[str, str], Account] = {}
        for account in self.accounts:
            key = (account.platform, account.account_id)
            if key in self._by_key:
                raise ValueError(f"duplicate account {key}")
            self._by_key[key] = account
        self._phases: dict[tuple, float] = {}
        self._hierarchy: dict[tuple, tuple[AdGroup, ...]] = {}
        self._anomaly_index = {(a.platform, a.account_id, a.campaign_id, a.day): a.kind for a in self.anomalies}

    # -- lookup -------------------------------------------------------------

    def account(self, platform: str, account_id: str) -> Account:
        try:
            return self._by_key[(platform, str(account_id))]
        except KeyError:
            raise KeyError(f"no {platform} account {account_id} in this world") from None

    def has_account(self, platform: str, account_id: str) -> bool:
        return (platform, str(account_id)) in self._by_key

    def accounts_for(self, platform: str) -> list[Account]:
        return [a for a in self.accounts if a.platform == platform]

    @property
    def default_as_of(self) -> date:
        if self.end_date is None:
            raise ValueError("this world has no end_date: pass as_of explicitly")
        return self.end_date + timedelta(days=1)

    def is_available(self, day: date, as_of: date) -> bool:
        if self.start_date is not None and day < self.start_date:
            return False
        return day < as_of

    # -- numbers ------------------------------------------------------------

    def _rng(self, *parts: object) -> random.Random:
        return seeded_random(self.seed, *parts)

    def _wobble(self, metric: str, key: tuple, day: date) -> float:
        """The day's factor for one scored KPI: a low-discrepancy sequence around 1.

        A rotation by an irrational step (from a per-campaign random phase) spreads
        the values of any few consecutive weeks evenly over +-sqrt(3)*sigma, so the
        trailing median and MAD are stable and no ordinary day lands far out.
        """
        step, sigma = WOBBLE[metric]
        phase = self._phases.get((metric, *key))
        if phase is None:
            phase = self._phases[(metric, *key)] = self._rng("phase", metric, *key).random()
        position = (phase + day.toordinal() * step) % 1.0
        return 1.0 + sigma * 3.0**0.5 * (2.0 * position - 1.0)

    def final(self, platform: str, account_id: str, campaign_id: str, day: date) -> dict:
        """The campaign-day's numbers once fully restated (ignores availability), before rounding conversions."""
        account = self.account(platform, account_id)
        campaign = account.campaign(campaign_id)
        key = (platform, account.account_id, campaign_id)
        rng = self._rng(*key, day.isoformat())
        age = (day - self.start_date).days if self.start_date else 0

        spend = (
            campaign.daily_spend
            * WEEKDAY_SPEND[day.weekday()]
            * (1.0 + campaign.trend_per_day * age)
            * self._wobble("spend", key, day)
        )
        conversions = spend / (campaign.cpa * self._wobble("cpa", key, day))
        clicks = conversions / (campaign.cvr * self._wobble("cvr", key, day))
        impressions = clicks / (campaign.ctr * self._wobble("ctr", key, day))
        value = spend * campaign.roas * self._wobble("roas", key, day)
        frequency = campaign.frequency * _noise(rng, NOISE_FREQUENCY)

        kind = self._anomaly_index.get((*key, day))
        if kind is not None:
            arng = self._rng("anomaly", kind, *key, day.isoformat())
            if kind == "ctr_collapse":
                ratio = arng.uniform(0.22, 0.28)
                clicks *= ratio
                conversions *= ratio
                value *= ratio
            elif kind == "spend_spike":
                spend *= arng.uniform(2.5, 3.0)
                impressions *= 1.25
                clicks *= 1.25
                conversions *= arng.uniform(0.5, 0.6)
                value *= arng.uniform(0.45, 0.55)
            elif kind == "no_clicks":
                clicks = conversions = value = 0.0

        impressions_i = max(0, round(impressions))
        metrics = {
            "spend": round(spend, 2),
            "impressions": impressions_i,
            "clicks": max(0, round(clicks)),
            "conversions": conversions,
            "conversion_value": value,
        }
        if ad_traits()[platform].reach:
            metrics["reach"] = min(impressions_i, round(impressions / frequency))
        return metrics

    def truth(
        self,
        platform: str,
        account_id: str,
        campaign_id: str,
        day: date,
        as_of: date | None = None,
    ) -> dict | None:
        """The numbers as the platform reports them on ``as_of``; None if not available.

        Keys: ``spend`` (account currency, 2 decimals), ``impressions``, ``clicks``,
        ``conversions`` (float with 2 decimals where the platform reports fractional conversions,
        a whole number elsewhere), ``conversion_value`` (2 decimals), ``reach`` where the platform
        reports it, and the platform's own metrics (its traits' ``extras``).
        """
        as_of = as_of or self.default_as_of
        if not self.is_available(day, as_of):
            return None
        metrics = self.final(platform, account_id, campaign_id, day)
        fraction = restatement_fraction(day, as_of)
        conversions = metrics["conversions"] * fraction
        traits = ad_traits()[platform]
        if traits.fractional_conversions:
            metrics["conversions"] = round(conversions, 2)
        else:
            metrics["conversions"] = round(conversions)
        metrics["conversion_value"] = round(metrics["conversion_value"] * fraction, 2)
        if traits.extras is not None:
            metrics.update(traits.extras(metrics))
        return metrics

    def truth_rows(
        self,
        platform: str,
        account_id: str,
        since: date,
        until: date,
        as_of: date | None = None,
        level: str = "campaign",
    ) -> list[dict]:
        """Every available campaign-day in ``[since, until]``, ordered by date then campaign.

        Each row: ``platform, account_id, workspace_id, currency, campaign_id,
        campaign_name, date`` (a ``datetime.date``) and the metrics of ``truth``.
        ``level="ad_group"`` or ``"ad"`` gives the campaign-days split over ad groups or
        ads instead (see ``fine_truth``), ordered by date, campaign, ad group, ad.
        """
        if level not in ("campaign", "ad_group", "ad"):
            raise ValueError(f"level must be 'campaign', 'ad_group' or 'ad', not {level!r}")
        as_of = as_of or self.default_as_of
        account = self.account(platform, account_id)
        rows = []
        day = since
        while day <= until:
            for campaign in account.campaigns:
                if level == "campaign":
                    metrics = self.truth(platform, account.account_id, campaign.campaign_id, day, as_of)
                    parts = [] if metrics is None else [metrics]
                else:
                    parts = self.fine_truth(platform, account.account_id, campaign.campaign_id, day, as_of, level)
                rows.extend(
                    {
                        "platform": platform,
                        "account_id": account.account_id,
                        "workspace_id": account.workspace_id,
                        "currency": account.currency,
                        "campaign_id": campaign.campaign_id,
                        "campaign_name": campaign.name,
                        "date": day,
                        **part,
                    }
                    for part in parts
                )
            day += timedelta(days=1)
        return rows

    # -- ad groups and ads ---------------------------------------------------

    def _platform_id(self, platform: str, *parts: object) -> str:
        """A stable id shaped like the platform's (its traits): a UUID or a number of its width."""
        digest = hashlib.sha256("|".join(str(p) for p in (self.seed, platform, *parts)).encode()).digest()
        traits = ad_traits()[platform]
        if traits.uuid_ids:
            return str(uuid.UUID(bytes=digest[:16], version=4))
        width = traits.id_digits
        return str(10 ** (width - 1) + int.from_bytes(digest[:8], "big") % (9 * 10 ** (width - 1)))

    def ad_groups(self, platform: str, account_id: str, campaign_id: str) -> tuple[AdGroup, ...]:
        """The campaign's ad groups (2 or 3), each with 2 ads; the same for the same seed."""
        key = ("ad_groups", platform, str(account_id), campaign_id)
        cached = self._hierarchy.get(key)
        if cached is not None:
            return cached
        campaign = self.account(platform, account_id).campaign(campaign_id)
        count = 2 + self._rng(*key).randrange(2)
        groups = []
        for g, label in enumerate(AD_GROUP_LABELS[:count]):
            group_id = self._platform_id(platform, account_id, campaign_id, "ad_group", g)
            ads = tuple(
                Ad(self._platform_id(platform, account_id, group_id, "ad", a), f"{label} - {ad_label}")
                for a, ad_label in enumerate(AD_LABELS)
            )
            groups.append(AdGroup(group_id, f"{campaign.name} - {label}", ads))
        self._hierarchy[key] = result = tuple(groups)
        return result

    def _shares(self, n: int, *key: object) -> list[float]:
        """Weights of n children for one day: fixed base shares with a bounded daily wobble."""
        base = self._rng("shares", n, *key[:-1])
        day = self._rng("shares-day", *key)
        weights = [(0.5 + base.random()) * (1.0 + day.uniform(-AD_GROUP_SHARE_WOBBLE, AD_GROUP_SHARE_WOBBLE)) for _ in range(n)]
        total = sum(weights)
        return [w / total for w in weights]

    @staticmethod
    def _split(total: float, shares: list[float], quantum: float) -> list[float | int]:
        """``total`` split by ``shares`` in units of ``quantum`` (largest remainders): parts sum exactly."""
        units = round(total / quantum)
        raw = [units * share for share in shares]
        parts = [int(x) for x in raw]
        for i in sorted(range(len(raw)), key=lambda i: (parts[i] - raw[i], i))[: units - sum(parts)]:
            parts[i] += 1
        if quantum == 1:
            return parts
        decimals = max(0, -int(f"{quantum:e}".split("e")[1]))
        return [round(p * quantum, decimals) for p in parts]

    def _split_metrics(self, platform: str, metrics: dict, shares: list[float], delivery: list[float]) -> list[dict]:
        """One campaign-day's (or ad group-day's) metrics split over its children.

        Conversion value follows the children's conversions: value comes with purchases, so a
        child with none has none (a platform such as Meta reports the value only beside a
        purchase count, and a value without one would be lost between the grains).
        """
        children: list[dict] = [{} for _ in shares]
        for name, value in sorted(metrics.items(), key=lambda item: item[0] == "conversion_value"):
            if name == "reach":
                continue
            if name in SPLIT_QUANTUM:
                quantum = SPLIT_QUANTUM[name]
            elif name == "conversions" and ad_traits()[platform].fractional_conversions:
                quantum = SPLIT_QUANTUM_FRACTIONAL_CONVERSIONS
            else:
                quantum = 1
            weights = shares if name in ("clicks", "conversions", "conversion_value") else delivery
            if name == "conversion_value" and metrics.get("conversions"):
                weights = [child["conversions"] / metrics["conversions"] for child in children]
            for child, part in zip(children, self._split(value, weights, quantum), strict=True):
                child[name] = part
        if "reach" in metrics:
            ratio = metrics["reach"] / metrics["impressions"] if metrics["impressions"] else 1.0
            for child in children:
                child["reach"] = min(child["impressions"], round(child["impressions"] * ratio * 1.08))
        return children

    def split_metrics(self, platform: str, metrics: dict, shares: list[float], delivery: list[float]) -> list[dict]:
        """Additive metrics split over children by outcome ``shares`` and ``delivery`` weights; the parts sum exactly."""
        return self._split_metrics(platform, metrics, shares, delivery)

    def fine_truth(self, platform: str, account_id: str, campaign_id: str, day: date, as_of: date | None = None, level: str = "ad_group") -> list[dict]:
        """The campaign-day split over its ad groups (``level="ad_group"``) or ads (``"ad"``).

        Each row: ``ad_group_id, ad_group_name`` (and ``ad_id, ad_name``) and the metrics of
        ``truth``; the additive ones sum exactly to the campaign-day. Empty if not available.
        """
        if level not in ("ad_group", "ad"):
            raise ValueError(f"level must be 'ad_group' or 'ad', not {level!r}")
        metrics = self.truth(platform, account_id, campaign_id, day, as_of)
        if metrics is None:
            return []
        groups = self.ad_groups(platform, account_id, campaign_id)
        key = (platform, str(account_id), campaign_id, day.isoformat())
        split = self._split_metrics(
            platform, metrics, self._shares(len(groups), *key, "outcome"), self._shares(len(groups), *key, "delivery")
        )
        rows = []
        for group, group_metrics in zip(groups, split, strict=True):
            ids = {"ad_group_id": group.ad_group_id, "ad_group_name": group.name}
            if level == "ad_group":
                rows.append({**ids, **group_metrics})
                continue
            gkey = (*key[:3], group.ad_group_id, day.isoformat())
            ads = self._split_metrics(
                platform, group_metrics, self._shares(len(group.ads), *gkey, "outcome"), self._shares(len(group.ads), *gkey, "delivery")
            )
            rows.extend({**ids, "ad_id": ad.ad_id, "ad_name": ad.name, **m} for ad, m in zip(group.ads, ads, strict=True))
        return rows

    # -- the demo -----------------------------------------------------------

    @classmethod
    def demo(cls, end_date: date, history_days: int = 120, seed: int = 42) -> World:
        """The demo world (ids pinned in docs/design.md) with two anomalies on ``end_date``."""
        accounts = demo_accounts()
        northwind_meta = accounts[0]
        lumen_google = accounts[3]
        anomalies = [
            Anomaly(
                "ctr_collapse",
                "meta",
                northwind_meta.account_id,
                northwind_meta.campaigns[0].campaign_id,
                end_date,
            ),
            Anomaly(
                "spend_spike",
                "google_ads",
                lumen_google.account_id,
                lumen_google.campaigns[1].campaign_id,
                end_date,
            ),
        ]
        return cls(
            accounts=accounts,
            seed=seed,
            anomalies=anomalies,
            start_date=end_date - timedelta(days=history_days - 1),
            end_date=end_date,
        )


def demo_accounts() -> list[Account]:
    """The demo accounts, each declared by its platform's sandbox module (``DEMO_ACCOUNTS``), in their ``order``:
    Meta and Google Ads first (config/workspaces.yml names the same ids; the stores' orders are drawn in this order).

    An account declares ``order``, ``account_id``, ``workspace_id``, ``currency``, ``timezone``, ``name`` and its
    ``campaigns``: each a ``Campaign``'s fields, its baseline economics in the account currency (daily spend, CPM,
    CTR, CVR, AOV and, where the platform reports reach, frequency)."""
    from sandbox.platforms import declared

    accounts = [(platform, a) for platform, declared_accounts in declared("DEMO_ACCOUNTS").items() for a in declared_accounts]
    return [
        Account(
            platform,
            a["account_id"],
            a["workspace_id"],
            a["currency"],
            a["timezone"],
            tuple(Campaign(**c) for c in a["campaigns"]),
            a["name"],
        )
        for platform, a in sorted(accounts, key=lambda entry: entry[1]["order"])
    ]
