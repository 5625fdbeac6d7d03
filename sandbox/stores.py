"""The sandbox's store orders: a deterministic order stream per store, with its ground truth.

Stores belong to a workspace of the ad world (``sandbox.world.World``); their
orders follow that workspace's campaigns, so attribution can be checked against
what really happened.

Generation, per store and store-local day ``d`` (from the world's start date to
the day before ``as_of``), every draw from a ``random.Random`` seeded by
``(seed, store, day, ...)`` so any day is computed on its own and the same seed
always gives the same orders:

- Paid orders: for every campaign of the workspace (all its ad accounts), the
  campaign's final conversions that day times its platform's
  ``store_orders_per_conversion`` (its traits in ``sandbox/platforms/``: 0.35
  for social platforms to 0.55 for search, as platforms also claim view-through
  and cross-device conversions), split
  evenly over the workspace's stores, rounded at random (so counts follow the
  campaigns loosely). Organic orders: about ``ORGANIC_SHARE`` of the paid ones,
  plus 0-2. A workspace's store revenue is so about half to two thirds of what
  its platforms claim (the demo prints it), and each platform claims 2 to 4
  times the revenue the store's last click gives it.
- Order time: uniform over the local day; totals around the campaign's average
  order value (organic: the workspace's average), in the store's currency.
- A paid order's last visit (click) is 0-6 days before the order and carries
  UTMs naming its campaign (``truth_rule``):

  | share | what the store shows                                   | truth                            |
  |-------|--------------------------------------------------------|----------------------------------|
  | 50%   | utm_campaign = campaign name, messy                    | campaign, ``utm_campaign_name``  |
  | 28%   | utm_campaign = campaign id, messy                      | campaign, ``utm_campaign_id``    |
  | 6%    | utm_campaign = campaign id, no utm_source              | campaign, ``utm_campaign_id``    |
  | 8%    | utm_source only, no utm_campaign                       | none, ``no_campaign``            |
  | 8%    | named campaign, but the last click is 8-20 days old    | none, ``outside_window``         |

  "Messy" is what stores really hold: upper or lower case, leading and trailing
  spaces, ``+`` or ``%20`` for spaces, ``%2B`` for a ``+``, and utm_source
  variants per platform, from its traits (``utm_sources`` in its module of
  ``sandbox/platforms/``: ``facebook``/``fb``/``ig``/``Instagram`` for Meta,
  ``google`` with medium ``cpc``, ..., ``pinterest`` for file drops).
- Search ads (platforms whose traits say ``search_terms``: Google Ads, Amazon
  Ads) pass the keyword: about two thirds of
  their orders carry ``utm_term`` (chosen by its own generator from the
  campaign and the click, so the other draws stay as they were).
- Organic orders: no UTMs, and for a third of them a referrer only (truth
  ``organic``).
- After the fact: 6% of orders are refunded (half in full, half in part) and 3%
  cancelled, 1-5 days after they were placed; the order's update time moves to
  that moment, so a re-pull by update time returns the new state. ``as_of``
  (the sandbox's today, store-local midnight) decides what has happened yet.
- Named cases, per store, on the world's end date minus 3 days: one order in
  the unknown currency ``XXX`` (organic) and one whose utm_campaign has broken
  percent-encoding (``%E0%A4%A``; truth ``malformed_utm``).

``StoreWorld.orders(platform, store_id, as_of)`` returns the ground truth per
order (see ``StoreWorld.orders``); the fake servers in ``sandbox/platforms``
render the same orders in each store's wire format.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sandbox.platforms import ad_traits
from sandbox.world import World, seeded_random

STORE_PLATFORMS = ("shopify", "woocommerce", "salla", "zid")
ORGANIC_SHARE = 0.4
REFUND_SHARE = 0.06
CANCEL_SHARE = 0.03
UNKNOWN_CURRENCY = "XXX"
MALFORMED_CAMPAIGN = "%E0%A4%A"

SEARCH_TERMS = ("buy {w}", "{w}", "best {w}", "{w} sale", "{w} near me", "cheap {w}")
REFERRERS = ("https://www.google.com/", "https://www.instagram.com/", "https://duckduckgo.com/", "https://www.bing.com/")


@dataclass(frozen=True)
class Store:
    platform: str
    store_id: str
    workspace_id: str
    currency: str
    timezone: str
    name: str
    id_base: int  # first order number of the store (ids are id_base + day * 1000 + n)


def demo_stores() -> list[Store]:
    """The demo stores (the registry in config/workspaces.yml names the same ids)."""
    return [
        Store("shopify", "northwind-outdoor", "northwind_us", "USD", "America/New_York", "Northwind Outdoor", 5_100_000_000),
        Store("woocommerce", "lumen-home", "lumen_eu", "EUR", "Europe/Berlin", "Lumen Home", 200_000_000),
        Store("shopify", "harbor-tea", "harbor_uk", "GBP", "Europe/London", "Harbor Tea", 5_300_000_000),
        Store("salla", "1456832901", "souq_sa", "SAR", "Asia/Riyadh", "Souq Riyadh (Salla)", 400_000_000),
        # sells in AED (the merchant's UAE storefront): its orders are converted to the workspace's SAR
        Store("zid", "38211", "souq_sa", "AED", "Asia/Riyadh", "Souq Riyadh (Zid)", 600_000_000),
    ]


def _search_term(campaign_name: str, click: datetime) -> str | None:
    """The keyword a search click carries (None for about a third), from its own generator."""
    rng = random.Random(f"term|{campaign_name}|{click.isoformat()}")
    if rng.random() < 0.35:
        return None
    words = [w for w in campaign_name.lower().replace("-", " ").split() if w.isalpha()] or ["shop"]
    return rng.choice(SEARCH_TERMS).format(w=rng.choice(words))


def _messy_name(name: str, rng: random.Random) -> str:
    forms = (
        lambda s: s,
        lambda s: s.upper(),
        lambda s: s.lower(),
        lambda s: f"  {s} ",
        lambda s: s.replace(" ", "+"),
        lambda s: quote(s, safe=""),  # %20 for spaces
        lambda s: quote(s.replace(" ", "+"), safe=""),  # %2B: a + encoded once more
        lambda s: " " + s.lower().replace(" ", "+"),
    )
    return rng.choice(forms)(name)


def _messy_id(campaign_id: str, rng: random.Random) -> str:
    return rng.choice((campaign_id, f" {campaign_id}", f"{campaign_id} ", f"  {campaign_id}"))


class StoreWorld:
    """Orders of every store in ``stores`` over the ad world ``world`` (seeded like it)."""

    def __init__(self, world: World, stores: list[Store] | None = None) -> None:
        self.world = world
        self.stores = list(stores if stores is not None else demo_stores())
        self._by_key = {(s.platform, s.store_id): s for s in self.stores}

    def store(self, platform: str, store_id: str) -> Store:
        try:
            return self._by_key[(platform, str(store_id))]
        except KeyError:
            raise KeyError(f"no {platform} store {store_id} in this world") from None

    def has_store(self, platform: str, store_id: str) -> bool:
        return (platform, str(store_id)) in self._by_key

    def stores_for(self, platform: str) -> list[Store]:
        return [s for s in self.stores if s.platform == platform]

    def _rng(self, *parts: object) -> random.Random:
        return seeded_random(self.world.seed, "stores", *parts)

    def _campaigns(self, store: Store) -> list[tuple]:
        return [
            (a.platform, a.account_id, c)
            for a in self.world.accounts
            if a.workspace_id == store.workspace_id
            for c in a.campaigns
        ]

    def _stores_in_workspace(self, store: Store) -> int:
        return sum(1 for s in self.stores if s.workspace_id == store.workspace_id)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one world per server: a handful of stores, some hundred days
    def _day(self, platform: str, store_id: str, day: date) -> tuple[dict, ...]:
        """The orders placed on one store-local day, with every event that will happen to them."""
        store = self.store(platform, store_id)
        tz = ZoneInfo(store.timezone)
        rng = self._rng(platform, store_id, day.isoformat())
        campaigns = self._campaigns(store)
        split = self._stores_in_workspace(store)
        plan: list[tuple | None] = []
        aovs = []
        for ad_platform, account_id, campaign in campaigns:
            conversions = self.world.final(ad_platform, account_id, campaign.campaign_id, day)["conversions"]
            expected = conversions * ad_traits()[ad_platform].store_orders_per_conversion / split
            n = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
            plan += [(ad_platform, campaign)] * n
            aovs.append(campaign.aov)
        organic = int(len(plan) * ORGANIC_SHARE) + rng.randint(0, 2)
        plan += [None] * organic
        if len(plan) > 990:  # order numbers are id_base + day * 1000 + n (the named cases add two)
            raise ValueError(f"{platform} store {store_id}: {len(plan)} orders on {day}, more than its order numbers allow")
        rng.shuffle(plan)
        special = self.world.end_date is not None and day == self.world.end_date - timedelta(days=3)
        if special and campaigns:  # the named cases need an order and a paid order after it
            plan += [None, (campaigns[0][0], campaigns[0][2])]
        average_aov = sum(aovs) / len(aovs) if aovs else 50.0
        malformed = next((i for i, s in enumerate(plan) if i > 0 and s is not None), None) if special else None
        orders = []
        day_number = day.toordinal() - date(2020, 1, 1).toordinal()
        for n, source in enumerate(plan):
            orng = self._rng(platform, store_id, day.isoformat(), n)
            local = datetime.combine(day, time()) + timedelta(seconds=orng.randint(0, 86_399))
            created = local.replace(tzinfo=tz).astimezone(UTC)
            aov = source[1].aov if source else average_aov
            total = round(aov * orng.uniform(0.55, 1.6), 2)
            order = {
                "order_number": store.id_base + day_number * 1000 + n,
                "created_at": created,
                "currency": store.currency,
                "total": total,
                **self._attribution(source, created, orng),
            }
            if special and n == 0:
                order.update(currency=UNKNOWN_CURRENCY, **self._attribution(None, created, orng, referrer=False))
            if n == malformed:
                order["utm"] = {**order["utm"], "campaign": MALFORMED_CAMPAIGN}
                order["landing_page"] = _landing_page(order["utm"])
                order.update(truth_platform=None, truth_campaign_id=None, truth_rule="malformed_utm")
            order.update(self._events(orng, created, total))
            orders.append(order)
        return tuple(orders)

    def _attribution(self, source, created: datetime, rng: random.Random, referrer: bool = True) -> dict:
        if source is None:
            ref = rng.choice(REFERRERS) if referrer and rng.random() < 1 / 3 else None
            return {
                "utm": {},
                "referrer": ref,
                "landing_page": "/" if ref is None else "/collections/all",
                "last_visit_at": created - timedelta(minutes=rng.randint(2, 90)) if ref else None,
                "truth_platform": None,
                "truth_campaign_id": None,
                "truth_rule": "organic",
            }
        ad_platform, campaign = source
        utm_source, medium = rng.choice(ad_traits()[ad_platform].utm_sources)
        roll = rng.random()
        truth = (ad_platform, campaign.campaign_id)
        click = created - timedelta(seconds=rng.randint(60, 6 * 86_400))
        if roll < 0.50:
            utm = {"source": utm_source, "medium": medium, "campaign": _messy_name(campaign.name, rng)}
            rule = "utm_campaign_name"
        elif roll < 0.78:
            utm = {"source": utm_source, "medium": medium, "campaign": _messy_id(campaign.campaign_id, rng)}
            rule = "utm_campaign_id"
        elif roll < 0.84:
            utm = {"medium": medium, "campaign": _messy_id(campaign.campaign_id, rng)}
            rule = "utm_campaign_id"
        elif roll < 0.92:
            utm = {"source": utm_source, "medium": medium}
            truth, rule = (None, None), "no_campaign"
        else:
            utm = {"source": utm_source, "medium": medium, "campaign": _messy_name(campaign.name, rng)}
            click = created - timedelta(days=rng.randint(8, 20), seconds=rng.randint(0, 80_000))
            truth, rule = (None, None), "outside_window"
        if rng.random() < 0.3:
            utm["content"] = "ad_" + str(rng.randint(1, 9))
        if ad_traits()[ad_platform].search_terms:
            term = _search_term(campaign.name, click)
            if term is not None:
                utm["term"] = term
        return {
            "utm": utm,
            "referrer": None,
            "landing_page": _landing_page(utm),
            "last_visit_at": click,
            "truth_platform": truth[0],
            "truth_campaign_id": truth[1],
            "truth_rule": rule,
        }

    def _events(self, rng: random.Random, created: datetime, total: float) -> dict:
        paid = created  # paid at checkout: the order's first update
        roll = rng.random()
        event = {"paid_at": paid, "event": None, "event_at": None, "refund_amount": 0.0}
        if roll < REFUND_SHARE:
            full = rng.random() < 0.5
            event.update(event="refund", refund_amount=total if full else round(total * rng.uniform(0.2, 0.6), 2))
        elif roll < REFUND_SHARE + CANCEL_SHARE:
            event.update(event="cancel", refund_amount=total)
        if event["event"]:
            event["event_at"] = created + timedelta(days=rng.randint(1, 5), seconds=rng.randint(0, 40_000))
        return event

    def orders(self, platform: str, store_id: str, as_of: date | None = None, since: date | None = None) -> list[dict]:
        """Every order placed before ``as_of`` (store-local midnight), in its state at that moment.

        ``since``: first store-local day of orders (default the world's start date).
        Per order: ``order_id`` (str), ``order_number`` (int), ``created_at`` (UTC),
        ``created_local`` (naive store-local), ``updated_at`` (UTC), ``updated_local``,
        ``currency``, ``total``, ``status`` (``paid``, ``partially_refunded``, ``refunded``,
        ``cancelled``), ``refunded_amount``, ``cancelled_at`` (UTC or None), ``utm``
        (``source``/``medium``/``campaign``/``content`` as sent; absent keys not sent),
        ``referrer``, ``landing_page``, ``last_visit_at`` (UTC or None), and the truth:
        ``truth_platform``, ``truth_campaign_id`` (None when no campaign should get
        the order) and ``truth_rule`` (``utm_campaign_name``, ``utm_campaign_id``,
        ``no_campaign``, ``outside_window``, ``organic``, ``malformed_utm``).
        """
        return list(self._orders(platform, self.store(platform, store_id).store_id, as_of or self.world.default_as_of, since))

    @functools.lru_cache(maxsize=32)  # noqa: B019 - every page of a list API asks for the same store and day
    def _orders(self, platform: str, store_id: str, as_of: date, since: date | None) -> tuple[dict, ...]:
        store = self.store(platform, store_id)
        tz = ZoneInfo(store.timezone)
        cutoff = datetime.combine(as_of, time()).replace(tzinfo=tz).astimezone(UTC)
        day = since or self.world.start_date
        out = []
        while day < as_of:
            for base in self._day(platform, store.store_id, day):
                out.append(_state(base, cutoff, tz, platform))
            day += timedelta(days=1)
        return tuple(out)

    def created_between(self, platform: str, store_id: str, as_of: date, since: date | None, until: date | None) -> list[dict]:
        """``orders`` placed on store-local days ``since..until`` (either open), newest first: list APIs that
        filter by creation date (Salla, Zid)."""
        orders = [
            o
            for o in self.orders(platform, store_id, as_of=as_of)
            if (since is None or o["created_local"].date() >= since) and (until is None or o["created_local"].date() <= until)
        ]
        return sorted(orders, key=lambda o: (o["created_at"], o["order_number"]), reverse=True)


def _landing_page(utm: dict) -> str:
    query = "&".join(f"utm_{k}={v}" for k, v in utm.items())
    return "/products/bestseller" + (f"?{query}" if query else "")


def _state(base: dict, cutoff: datetime, tz: ZoneInfo, platform: str) -> dict:
    happened = base["event"] is not None and base["event_at"] < cutoff
    status, refunded, cancelled_at, updated = "paid", 0.0, None, base["paid_at"]
    if happened:
        updated = base["event_at"]
        refunded = base["refund_amount"]
        if base["event"] == "cancel":
            status, cancelled_at = "cancelled", base["event_at"]
        else:
            status = "refunded" if refunded >= base["total"] else "partially_refunded"
    number = base["order_number"]
    return {
        "order_id": f"gid://shopify/Order/{number}" if platform == "shopify" else str(number),
        "order_number": number,
        "created_at": base["created_at"],
        "created_local": base["created_at"].astimezone(tz).replace(tzinfo=None),
        "updated_at": updated,
        "updated_local": updated.astimezone(tz).replace(tzinfo=None),
        "currency": base["currency"],
        "total": base["total"],
        "status": status,
        "refunded_amount": refunded,
        "cancelled_at": cancelled_at,
        "utm": dict(base["utm"]),
        "referrer": base["referrer"],
        "landing_page": base["landing_page"],
        "last_visit_at": base["last_visit_at"],
        "truth_platform": base["truth_platform"],
        "truth_campaign_id": base["truth_campaign_id"],
        "truth_rule": base["truth_rule"],
    }
