"""WooCommerce ``GET /wp-json/wc/v3/orders``: page numbers from ``X-WP-TotalPages``, GMT filters.

Basic auth with the consumer key and secret. The window is asked for in GMT
(``modified_after`` / ``modified_before`` with ``dates_are_gmt=true``; without it
WooCommerce reads them in the site's time zone), ``orderby=id`` so pages stay
stable while orders change, ``per_page`` <= 100. Pages 2.. follow the first
answer's ``X-WP-TotalPages``. The answer is a bare JSON array of orders;
``date_modified`` is site-local without a zone, ``date_modified_gmt`` UTC without
one: the report date is the store-local day of ``date_modified_gmt``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import requests

from adapters.base import Page
from adapters.errors import BadResponseError
from adapters.http import HttpClient
from adapters.stores import MAX_PAGES, REPORT, classify_unauthorized, load_json, local_day, records_of, utc_bounds

API_PATH = "/wp-json/wc/v3/orders"


def parse_page(body: bytes) -> list[dict]:
    return records_of(load_json(body), "the answer (a JSON array)")


def report_date(record: dict, timezone: str | None = None) -> date:
    """Store-local day of the last change: ``date_modified_gmt`` (UTC) in the store's zone."""
    gmt = record.get("date_modified_gmt")
    if isinstance(gmt, str) and gmt and timezone:
        return local_day(gmt + "+00:00", timezone)
    return local_day(record["date_modified"], None)


def _validate(response: requests.Response) -> None:
    parse_page(response.content)


class WooCommerceOrdersClient:
    """Orders of one WooCommerce site. ``base_url``: the site (``https://shop.example``)."""

    platform = "woocommerce"
    report = REPORT

    def __init__(self, base_url: str, consumer_key: str, consumer_secret: str, http: HttpClient | None = None, page_size: int = 100) -> None:
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self.http = http or HttpClient("woocommerce")
        if not self.http.platform:
            self.http.platform = "woocommerce"
        self.http.add_secret(consumer_secret)
        self.http.session.auth = (consumer_key, consumer_secret)

    def fetch_orders(self, site: str, since: date, until: date, timezone: str) -> Iterator[Page]:
        start, end = utc_bounds(since, until, timezone)
        params = {
            "modified_after": (start - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S"),
            "modified_before": end.strftime("%Y-%m-%dT%H:%M:%S"),
            "dates_are_gmt": "true",
            "orderby": "id",
            "order": "asc",
            "per_page": str(self.page_size),
        }
        total_pages = 1
        number = 1
        while number <= total_pages:
            page_params = {**params, "page": str(number)}
            context = f"woocommerce orders page {number} of site {site} ({since}..{until})"
            response = self.http.request(
                "GET",
                self.base_url + API_PATH,
                params=page_params,
                classify=classify_unauthorized,
                validate=_validate,
                context=context,
                account_id=site,
            )
            if number == 1:
                try:
                    total_pages = int(response.headers.get("X-WP-TotalPages", "1"))
                except ValueError:
                    raise BadResponseError(f"{context}: X-WP-TotalPages is not a number", platform="woocommerce", account_id=site) from None
                if total_pages > MAX_PAGES:
                    raise BadResponseError(f"{context}: {total_pages} pages; stopping", platform="woocommerce", account_id=site)
            yield Page(response.content, parse_page(response.content), {"method": "GET", "url": self.base_url + API_PATH, "path": API_PATH, "params": page_params})
            number += 1


def fetch(client: WooCommerceOrdersClient, site: str, since: date, until: date, timezone: str):
    return client.fetch_orders(site, since, until, timezone)
