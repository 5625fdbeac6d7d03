"""Shopify Admin GraphQL ``orders``: cursor paging by update time, THROTTLED answered with HTTP 200.

``POST {shop URL}/admin/api/{version}/graphql.json`` with ``X-Shopify-Access-Token``.
The search query is ``updated_at:>='<UTC start>' updated_at:<'<UTC end>'``, sorted
by ``UPDATED_AT``; pages of ``first`` (<= 250) follow ``pageInfo.endCursor`` while
``hasNextPage``. Throttling comes back as HTTP 200 with
``errors[].extensions.code = "THROTTLED"``: the wait is what the bucket needs to
refill for this query, ``(requestedQueryCost - currentlyAvailable) / restoreRate``
seconds, at least 1 and at most ``max_throttle_wait``; the shared HTTP layer then
retries within its budget. Other GraphQL errors are permanent; a 401 needs a new
access token.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import requests

from adapters.base import Page
from adapters.errors import AdapterError, BadResponseError, PermanentError, RateLimitedError
from adapters.http import HttpClient
from adapters.stores import MAX_PAGES, REPORT, classify_unauthorized, load_json, local_day, records_of, utc_bounds

DEFAULT_API_VERSION = "2025-01"
MAX_THROTTLE_WAIT = 60.0
ORDERS_QUERY = """
query Orders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    edges {
      cursor
      node {
        id name createdAt updatedAt processedAt cancelledAt cancelReason currencyCode displayFinancialStatus
        totalPriceSet { shopMoney { amount currencyCode } }
        totalRefundedSet { shopMoney { amount currencyCode } }
        customerJourneySummary {
          ready
          lastVisit { occurredAt landingPage referrerUrl source utmParameters { source medium campaign content term } }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
""".strip()


def _payload(body: bytes) -> dict:
    payload = load_json(body)
    if not isinstance(payload, dict):
        raise BadResponseError("expected a GraphQL answer object")
    return payload


def _connection(payload: dict) -> dict:
    orders = (payload.get("data") or {}).get("orders") if isinstance(payload.get("data"), dict) else None
    if not isinstance(orders, dict) or not isinstance(orders.get("edges"), list) or not isinstance(orders.get("pageInfo"), dict):
        raise BadResponseError("no data.orders{edges, pageInfo} in the answer")
    return orders


def parse_page(body: bytes) -> list[dict]:
    """The orders of one answer: each ``edges[].node`` as sent."""
    payload = _payload(body)
    if payload.get("errors"):
        raise BadResponseError(f"body is a GraphQL error: {str(payload['errors'])[:200]}")
    return records_of([e.get("node") if isinstance(e, dict) else e for e in _connection(payload)["edges"]], "data.orders.edges[].node")


def report_date(record: dict, timezone: str | None = None) -> date:
    """The store-local day of ``updatedAt`` (Shopify sends UTC)."""
    return local_day(record["updatedAt"], timezone)


def throttle_wait(payload: dict, cap: float = MAX_THROTTLE_WAIT) -> float:
    cost = (payload.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        needed = float(cost.get("requestedQueryCost") or 0) - float(status.get("currentlyAvailable") or 0)
        wait = needed / float(status.get("restoreRate") or 50.0)
    except (TypeError, ValueError):
        wait = 1.0
    return min(cap, max(1.0, wait))


def classify(response: requests.Response, cap: float = MAX_THROTTLE_WAIT) -> AdapterError | None:
    if response.status_code != 200:
        return classify_unauthorized(response)
    try:
        payload = response.json()
    except ValueError:
        return None
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if not errors:
        return None
    codes = [((e.get("extensions") or {}).get("code") if isinstance(e, dict) else None) for e in errors]
    message = "; ".join(str(e.get("message") if isinstance(e, dict) else e) for e in errors)[:300]
    if "THROTTLED" in codes:
        wait = throttle_wait(payload, cap)
        return RateLimitedError(f"Shopify THROTTLED (HTTP 200): {message}; bucket refills in {wait:.1f}s", retry_after=wait, code="THROTTLED")
    return PermanentError(f"Shopify GraphQL error (HTTP 200) {codes}: {message}", status_code=200, code=str(codes[0]))


class ShopifyOrdersClient:
    """Orders of one shop updated in a window of store-local days.

    ``base_url``: the shop, ``https://{shop}.myshopify.com`` (or a sandbox's
    ``http://127.0.0.1:PORT/shopify/{shop}``).
    """

    platform = "shopify"
    report = REPORT

    def __init__(
        self,
        base_url: str,
        access_token: str,
        api_version: str = DEFAULT_API_VERSION,
        http: HttpClient | None = None,
        page_size: int = 250,
        max_throttle_wait: float = MAX_THROTTLE_WAIT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.page_size = page_size
        self.max_throttle_wait = max_throttle_wait
        self.http = http or HttpClient("shopify")
        if not self.http.platform:
            self.http.platform = "shopify"
        self.http.add_secret(access_token)
        self._token = access_token

    @property
    def path(self) -> str:
        return f"/admin/api/{self.api_version}/graphql.json"

    def fetch_orders(self, shop: str, since: date, until: date, timezone: str) -> Iterator[Page]:
        start, end = utc_bounds(since, until, timezone)
        search = f"updated_at:>='{start:%Y-%m-%dT%H:%M:%SZ}' updated_at:<'{end:%Y-%m-%dT%H:%M:%SZ}'"
        after = None
        for number in range(1, MAX_PAGES + 1):
            variables = {"first": self.page_size, "after": after, "query": search}
            context = f"shopify orders page {number} of shop {shop} ({since}..{until})"
            response = self.http.request(
                "POST",
                self.base_url + self.path,
                json={"query": ORDERS_QUERY, "variables": variables},
                headers={"X-Shopify-Access-Token": self._token, "Content-Type": "application/json"},
                classify=lambda r: classify(r, self.max_throttle_wait),
                context=context,
                account_id=shop,
            )
            try:
                records = parse_page(response.content)
                info = _connection(_payload(response.content))["pageInfo"]
            except BadResponseError as exc:
                raise exc.with_context(context, platform="shopify", account_id=shop) from None
            yield Page(response.content, records, {"method": "POST", "url": self.base_url + self.path, "path": self.path, "params": variables})
            if not info.get("hasNextPage"):
                return
            after = info.get("endCursor")
            if not after:
                raise BadResponseError(f"{context}: hasNextPage without an endCursor", platform="shopify", account_id=shop)
        raise BadResponseError(f"shopify: more than {MAX_PAGES} pages for shop {shop}; stopping", account_id=shop)


def fetch(client: ShopifyOrdersClient, shop: str, since: date, until: date, timezone: str):
    return client.fetch_orders(shop, since, until, timezone)
