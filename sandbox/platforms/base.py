"""What every sandbox platform shares: world access, tokens, scripted answers, counters."""

from __future__ import annotations

import random
import secrets
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class AdTraits:
    """How one ad platform looks in the sandbox world (``sandbox/world.py``, ``sandbox/stores.py``).

    A platform module that is an ad platform of the world names its traits ``TRAITS``;
    the world's economics are the same for every platform, these are the differences in
    what the platform reports and how its ids and clicks look.
    """

    id_digits: int = 12  # digits of an ad group's or ad's id
    uuid_ids: bool = False  # ids are UUIDs instead
    fractional_conversions: bool = False  # conversions with two decimals (data-driven credit), not whole purchases
    reach: bool = False  # reports reach (people reached) beside impressions
    extras: Callable[[dict], dict] | None = None  # its own metrics, derived from a day's numbers
    utm_sources: tuple[tuple[str, str], ...] = ()  # (utm_source, utm_medium) pairs stores see on its clicks
    search_terms: bool = False  # its clicks carry the search keyword as utm_term
    # Store orders behind each conversion it reports (sandbox/stores.py): under 1, as platforms also count
    # view-through and cross-device conversions the store never sees from them; lowest where views count most.
    store_orders_per_conversion: float = 0.4


@dataclass(frozen=True)
class RealisticProfile:
    """How one ad platform's campaigns look in the realistic evaluation world (``sandbox/realistic.py``).

    A platform module that takes part in that world names its profile ``REALISTIC``.
    ``levels(rng, campaign_name)`` draws a campaign's platform-typical levels in US dollars:
    (weekday kind: social | search | retail, CTR, CPM, CVR, ROAS target); the order of its draws is
    part of the world (the same seed gives the same world). ``record(account, row)`` is one
    campaign-day as the platform's API returns it, as its primary report lands in the raw table.
    """

    rotation: int  # place in each workspace's rotation of campaigns over its platforms
    account_id: tuple[str, int]  # (prefix, number of digits), as the platform shapes its ids
    campaign_id: tuple[str, int]
    campaign_names: tuple[str, ...]
    levels: Callable[[random.Random, str], tuple[str, float, float, float, float]]
    record: Callable[[Any, dict], dict]
    # None: in every workspace, twice in its rotation; 0 or 1: only in the workspaces whose index has that
    # parity (and in the Saudi one, which has every platform).
    alternate: int | None = None


def video_metrics(views: str, share_of_impressions: float, **shares: float) -> Callable[[dict], dict]:
    """Traits' ``extras`` for video metrics: ``views`` is a share of the day's impressions, each
    of ``shares`` (name=share) a share of ``views``."""

    def derive(metrics: dict) -> dict:
        count = round(metrics["impressions"] * share_of_impressions)
        return {views: count, **{name: round(count * share) for name, share in shares.items()}}

    return derive


class PlatformApi:
    """State of one fake platform. Subclasses define ``platform``, ``routes()`` and ``new_credentials()``.

    ``clock``: seconds (monotonic by default), used for token expiry; tests replace it
    to make a token expire mid-extract. ``script(*answers)`` queues answers the next
    requests get instead of the real one (what an answer is depends on the platform).
    ``calls`` counts requests per endpoint.

    Fault injection (``sandbox/faults.py``) asks the platform for its own error bodies
    (``fault_body``) and where its rows are in a good answer (``record_access``).
    """

    platform = ""
    record_access = None  # a sandbox.faults.RecordAccess for the bad_data faults

    def __init__(self, server) -> None:
        self.server = server
        self.lock = threading.Lock()
        self.clock: Callable[[], float] = monotonic
        self.calls: Counter[str] = Counter()
        self._scripted: list = []
        self._tokens: dict[str, float] = {}

    @property
    def world(self):
        return self.server.world

    @property
    def today(self):
        return self.server.today

    @property
    def credentials(self) -> dict:
        return self.server.credentials[self.platform]

    def routes(self) -> list:
        raise NotImplementedError

    @staticmethod
    def new_credentials() -> dict:
        """Random credentials this platform accepts (the keys its Connection needs)."""
        raise NotImplementedError

    @classmethod
    def connection(cls, sandbox_url: str, creds: dict, **options) -> dict | None:
        """The Airflow Connection (``<platform>_default``, as its JSON) that points the platform's client at this
        fake with `creds`; None for platforms whose Connections are per account (the stores)."""
        return None

    @classmethod
    def oauth_connection(cls, sandbox_url: str, creds: dict, token_path: str, **extra) -> dict:
        """A refresh-token Connection: client id as login, refresh token as password, the token URL in extra."""
        return {
            "conn_type": "http",
            "host": f"{sandbox_url}/{cls.platform}",
            "login": creds["client_id"],
            "password": creds["refresh_token"],
            "extra": {"client_secret": creds["client_secret"], "token_url": f"{sandbox_url}/{cls.platform}/{token_path}", **extra},
        }

    def fault_body(self, kind: str, fault, ctx):
        """The platform's own answer for an error fault (None: the generic one)."""
        return None

    def not_found(self, request, status: int):
        """The platform's answer to a path it does not serve (None: a plain JSON error)."""
        return None

    # -- scripted answers ---------------------------------------------------

    def script(self, *answers: object) -> None:
        with self.lock:
            self._scripted.extend(answers)

    def take_scripted(self) -> object | None:
        with self.lock:
            return self._scripted.pop(0) if self._scripted else None

    def count(self, endpoint: str) -> None:
        with self.lock:
            self.calls[endpoint] += 1

    # -- tokens -------------------------------------------------------------

    def issue_token(self, prefix: str, ttl: float) -> str:
        token = prefix + secrets.token_urlsafe(32)
        with self.lock:
            self._tokens[token] = self.clock() + ttl
        return token

    def token_valid(self, token: str | None) -> bool:
        if not token:
            return False
        with self.lock:
            expiry = self._tokens.get(token)
        return expiry is not None and expiry > self.clock()

    def issued_tokens(self) -> list[str]:
        with self.lock:
            return list(self._tokens)

    def expire_tokens(self) -> int:
        with self.lock:
            count = len(self._tokens)
            self._tokens.clear()
            return count

    def refresh_form_ok(self, body: bytes) -> bool:
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        expected = self.credentials
        return (
            form.get("grant_type") == "refresh_token"
            and form.get("client_id") == expected["client_id"]
            and secrets.compare_digest(form.get("client_secret", ""), expected["client_secret"])
            and secrets.compare_digest(form.get("refresh_token", ""), expected["refresh_token"])
        )


def bearer(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization", "")
    if value[:7].lower() == "bearer ":
        return value[7:].strip()
    return None


def page_params(query: dict[str, str], default_per_page: int, max_per_page: int) -> tuple[int, int]:
    """``page`` and ``per_page`` of a list request; ValueError naming the limit when out of range."""
    page, per_page = int(query.get("page", "1")), int(query.get("per_page", str(default_per_page)))
    if not 1 <= per_page <= max_per_page or page < 1:
        raise ValueError(f"per_page must be from 1 to {max_per_page} and page at least 1 (got {per_page}, {page})")
    return page, per_page


def day_params(query: dict[str, str], first: str, last: str) -> tuple:
    """Two optional ``YYYY-MM-DD`` query parameters as dates (None when absent)."""
    from datetime import date

    return tuple(date.fromisoformat(query[name]) if query.get(name) else None for name in (first, last))
