"""What the store-order adapters (Shopify, WooCommerce, Salla, Zid) share.

Store orders are pulled by update time: a window of store-local days
``since..until`` becomes the UTC instants ``[since 00:00, until+1 00:00)`` in the
store's time zone. Each adapter yields ``Page``s whose records are single
orders exactly as the API sent them; ``report_date(order, timezone)`` is the
store-local day of the order's last update.

Salla and Zid list orders by creation date only, so their adapters ask for
orders created from ``since - created_margin_days`` (default
``CREATED_MARGIN_DAYS``) and the loader keeps those updated inside the window:
a refund more than that many days after the order is missed by them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from adapters import jsonio
from adapters.catalogue import ConnectionConvention, ConnectionSettings, FieldSpec, PlatformSpec, Report
from adapters.errors import AdapterError, BadResponseError, PermanentError, ReauthRequiredError, body_excerpt
from adapters.http import HttpClient

REPORT = "orders"
# Days of orders re-pulled by update time on every run, by default (refunds, cancellations).
STORE_LOOKBACK_DAYS = 14
CREATED_MARGIN_DAYS = 60
MAX_PAGES = 100_000


def utc_bounds(since: date, until: date, timezone: str) -> tuple[datetime, datetime]:
    """``[since 00:00, until + 1 day 00:00)`` store-local, as UTC instants."""
    if since > until:
        raise PermanentError(f"since {since} is after until {until}")
    tz = ZoneInfo(timezone)
    start = datetime.combine(since, time()).replace(tzinfo=tz).astimezone(UTC)
    end = datetime.combine(until + timedelta(days=1), time()).replace(tzinfo=tz).astimezone(UTC)
    return start, end


load_json = jsonio.load_body


def local_day(text: object, timezone: str | None) -> date:
    """The store-local day of an ISO 8601 instant (``Z``/offset) or of a zone-less local time."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"not a timestamp: {text!r}")
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is not None and timezone:
        value = value.astimezone(ZoneInfo(timezone))
    return value.date()


def classify_unauthorized(response: requests.Response) -> AdapterError | None:
    """Store tokens are long-lived and cannot be renewed here: a 401 means re-authorise."""
    if response.status_code == 401:
        return ReauthRequiredError(
            f"HTTP 401: {body_excerpt(response.content, 200)}",
            status_code=401,
        )
    return None


def records_of(rows: object, where: str) -> list[dict]:
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise BadResponseError(f"expected a list of order objects in {where}")
    return rows


class CreatedDateListClient:
    """Shared set-up of the clients whose order list filters by creation date (Salla, Zid).

    ``created_from(since)`` is the first creation day asked for: ``since`` minus
    ``created_margin_days``, so orders changed in the window but placed before it come too.
    """

    platform = ""
    report = REPORT
    max_per_page = 100

    def __init__(
        self, base_url: str, http: HttpClient | None, page_size: int, created_margin_days: int, secrets: tuple[str, ...]
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.page_size = min(page_size, self.max_per_page)
        self.created_margin_days = created_margin_days
        self.http = http or HttpClient(self.platform)
        if not self.http.platform:
            self.http.platform = self.platform
        self.http.add_secret(*secrets)

    def created_from(self, since: date) -> date:
        return since - timedelta(days=self.created_margin_days)


def store_spec(
    name: str,
    label: str,
    order: int,
    orders: tuple[Callable, Callable, Callable],
    total: tuple[str, ...],
    connection: ConnectionConvention,
    build_client: Callable[[ConnectionSettings], Any],
    store_id_pattern: str,
) -> PlatformSpec:
    """A store's spec: its orders report (``orders``: parse_page, report_date, fetch), one record per order,
    checked for an id unique per day and a ``total`` that reads as a number, re-pulled over
    ``STORE_LOOKBACK_DAYS`` by default."""
    parse_page, report_date, fetch = orders
    fields = (FieldSpec("order_id", ("id",), "id"), FieldSpec("total", total, "number"))
    return PlatformSpec(
        name=name,
        label=label,
        order=order,
        store=True,
        primary=Report(REPORT, parse_page, report_date, fetch, fields=fields, key=("order_id",)),
        lookback_days=STORE_LOOKBACK_DAYS,
        connection=connection,
        build_client=build_client,
        account_id_pattern=store_id_pattern,
    )
