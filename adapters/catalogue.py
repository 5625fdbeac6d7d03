"""What one adapter package declares about its platform: the catalogue's vocabulary.

Each ``adapters/<platform>/__init__.py`` declares one ``SPEC = PlatformSpec(...)``: its reports
(fetch, parser, report date, raw table, the fields validation reads and the key unique per day,
and whether a load replaces the account's window or, for entity lists, all its rows), its
display label and place in the run, its default lookback, its attribution, the Connection it
reads (default host, the fields it needs) and ``build_client(settings)``, which builds its client
from plain connection settings. ``adapters.PLATFORMS`` collects the specs by walking the package;
the DAG's task groups, the raw tables, validation, registry defaults, Connections and alert labels
all read it, so a platform is added in its own folders and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from adapters.base import entity_report_date

Fetch = Callable[..., Iterable]

# An account id, unless the platform's spec says otherwise (``PlatformSpec.account_id_pattern``).
DIGITS_ACCOUNT_ID = r"^[0-9]{1,20}$"


@dataclass(frozen=True)
class FieldSpec:
    """One canonical field of a raw record, as validation reads it: where it is and how to read it."""

    name: str
    path: tuple[str, ...]
    kind: str  # text | number | id (a non-empty string or a whole number)
    scale: float = 1.0  # e.g. micros -> major units
    default: Any = None  # value when absent (proto3 JSON omits zeros); None = required


class Report(NamedTuple):
    """One report of a platform: how to fetch and parse it, where it lands and what its rows must satisfy.

    ``entity_list``: rows without a report date (campaign lists and the like); a load replaces the
    account's rows rather than the days of its window, and validation checks the key over the whole list.
    ``raw_table``: the table in schema raw (None: ``<platform>__<report>``).
    """

    report: str
    parse_page: Callable[[bytes], Iterable[dict]]  # a list, or an iterator that reads the page as it goes
    report_date: Callable[..., date | None]
    fetch: Fetch | None = None
    entity_list: bool = False
    fields: tuple[FieldSpec, ...] = ()
    key: tuple[str, ...] = ("campaign_id",)
    raw_table: str | None = None


class SettingsError(ValueError):
    """Connection settings lack a field the platform needs."""


@dataclass(frozen=True)
class ConnectionSettings:
    """A Connection's plain values, as a client builder reads them; ``source`` names it in errors."""

    source: str
    host: str | None = None
    port: int | None = None
    login: str | None = None
    password: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def require(self, value: Any, what: str) -> Any:
        if not value:
            raise SettingsError(f"{self.source} has no {what}")
        return value

    def base_url(self) -> str:
        """The host as a base URL (https:// when it names no scheme), with the port when there is one."""
        host = self.require(self.host, "host (the API base URL)")
        if not host.startswith(("http://", "https://")):
            host = f"https://{host}"
        if self.port and f":{self.port}" not in host:
            scheme, rest = host.split("://", 1)
            head, _, tail = rest.partition("/")
            host = f"{scheme}://{head}:{self.port}" + (f"/{tail}" if tail else "")
        return host.rstrip("/")


@dataclass(frozen=True)
class ConnectionConvention:
    """How a platform's Connection is filled in: what each field holds ("" for unused) and which are required."""

    default_host: str
    login: str = ""
    password: str = ""
    extra: str = ""
    required: tuple[str, ...] = ()  # e.g. ("host", "password", "extra.client_secret")


@dataclass(frozen=True)
class PlatformSpec:
    """A platform as one unit: everything the pipeline's layers need to know about it.

    ``order`` places its task group in the daily run (ad platforms first, then stores, each by
    ``order``). ``store``: a store's orders, whose days are the store's own (``report_date`` and
    ``fetch`` take its time zone). ``build_client`` is None for a platform read from files.
    """

    name: str
    label: str
    order: int
    primary: Report
    extra: tuple[Report, ...] = ()
    lookback_days: int = 0
    attribution: str | None = None  # recorded per account in ops.workspace_accounts (None for stores)
    store: bool = False
    connection: ConnectionConvention | None = None
    build_client: Callable[[ConnectionSettings], Any] | None = None
    account_id_pattern: str | None = None  # None: DIGITS_ACCOUNT_ID (see ``account_id_regex``)
    # An account id as the platform's UI shows it -> as its API takes it (e.g. 123-456-7890 -> 1234567890).
    account_id_from_ui: Callable[[str], str] | None = None

    @property
    def account_id_regex(self) -> str:
        """What an account id (a store's id for a store) of this platform looks like."""
        return self.account_id_pattern or DIGITS_ACCOUNT_ID

    @property
    def report(self) -> str:
        return self.primary.report

    @property
    def parse_page(self) -> Callable[[bytes], Iterable[dict]]:
        return self.primary.parse_page

    @property
    def report_date(self) -> Callable[..., date | None]:
        return self.primary.report_date

    @property
    def fetch(self) -> Fetch | None:
        return self.primary.fetch

    @property
    def zoned(self) -> bool:
        """Report dates and fetches take the account's time zone (store orders)."""
        return self.store

    def reports(self) -> tuple[Report, ...]:
        """Every report of the platform, the primary first (the order they are extracted and loaded)."""
        return (self.primary, *self.extra)

    def get(self, report: str) -> Report:
        for spec in self.reports():
            if spec.report == report:
                return spec
        raise KeyError(f"no report {report!r} (known: {', '.join(r.report for r in self.reports())})")

    def raw_table(self, report: str) -> str:
        """The report's table in schema raw."""
        return self.get(report).raw_table or f"{self.name}__{report}"


def client_call(method: str, *, window: bool = True, **options: Any) -> Fetch:
    """A report's fetch: the client's ``method`` for the account and the window (``window=False``: for the
    account alone, as an entity list is fetched whole), with fixed keyword ``options`` (e.g. ``level="ad"``)."""

    def fetch(client: Any, account_id: str, since: date, until: date) -> Iterable:
        call = getattr(client, method)
        return call(account_id, since, until, **options) if window else call(account_id, **options)

    fetch.__name__ = fetch.__qualname__ = method
    return fetch


def metric_fields(
    spend: tuple[str, ...], impressions: tuple[str, ...], clicks: tuple[str, ...], spend_scale: float = 1.0
) -> tuple[FieldSpec, ...]:
    """Spend, impressions and clicks at their paths: numbers, zero when absent."""
    return (
        FieldSpec("spend", spend, "number", scale=spend_scale, default=0),
        FieldSpec("impressions", impressions, "number", default=0),
        FieldSpec("clicks", clicks, "number", default=0),
    )


def entity_list(report: str, parse_page: Callable[[bytes], Iterable[dict]], fetch: Fetch, *fields: FieldSpec) -> Report:
    """A list of the account's entities (no report date): its first field is the key, unique in the list."""
    return Report(report, parse_page, entity_report_date, fetch, entity_list=True, fields=fields, key=(fields[0].name,))


def oauth_credentials(
    settings: ConnectionSettings, default_token_url: str, client_id: str = "the OAuth client id"
) -> dict[str, str]:
    """An OAuth refresh-token client's credentials: client id in login, refresh token in password, secret in extra."""
    return {
        "client_id": settings.require(settings.login, f"login ({client_id})"),
        "client_secret": settings.require(settings.extra.get("client_secret"), "extra.client_secret"),
        "refresh_token": settings.require(settings.password, "password (the refresh token)"),
        "token_url": settings.extra.get("token_url") or default_token_url,
    }


def ad_group_report(
    report: str,
    parse_page: Callable[[bytes], Iterable[dict]],
    report_date: Callable[..., date | None],
    fetch: Fetch,
    ids: tuple[tuple[str, ...], tuple[str, ...], str],
    metrics: tuple[FieldSpec, ...],
) -> Report:
    """A finer grain under the campaign: the ad group unique per day, with its campaign and metrics.

    ``ids``: the ad group's path, the campaign's path, and their kind (text, or number for JSON numbers).
    """
    ad_group, campaign, kind = ids
    fields = (FieldSpec("ad_group_id", ad_group, kind), FieldSpec("campaign_id", campaign, kind), *metrics)
    return Report(report, parse_page, report_date, fetch, fields=fields, key=("ad_group_id",))


def oauth_connection(default_host: str, extra: str = "client_secret, token_url") -> ConnectionConvention:
    """The Connection of an OAuth refresh-token client (see ``oauth_credentials``)."""
    return ConnectionConvention(
        default_host, login="client id", password="refresh token", extra=extra, required=("host", "login", "password", "extra.client_secret")
    )
