"""Salla ``GET /admin/v2/orders``: the ``pagination`` envelope, numeric amounts, store-local dates.

Bearer token (the store is the token's). Salla filters the list by creation
date only (``from_date`` / ``to_date``, store-local days), so the window asked
for starts ``created_margin_days`` before the update window (see
``adapters.stores``); ``per_page`` <= 60, pages until ``pagination.currentPage``
reaches ``totalPages``. Amounts are JSON numbers (``amounts.total.amount``);
``date`` and ``updated_at`` are ``{date: "YYYY-MM-DD HH:MM:SS.ffffff", timezone}``
in the store's zone: the report date is the day of ``updated_at`` (``date`` when
absent). UTMs: ``source_details`` (see the sandbox's ``sandbox/platforms/salla.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from adapters.base import Page
from adapters.errors import BadResponseError
from adapters.http import HttpClient, StaticBearerAuth
from adapters.stores import (
    CREATED_MARGIN_DAYS,
    MAX_PAGES,
    CreatedDateListClient,
    classify_unauthorized,
    load_json,
    records_of,
)

DEFAULT_BASE_URL = "https://api.salla.dev"
API_PATH = "/admin/v2/orders"
MAX_PER_PAGE = 60


def _envelope(body: bytes) -> dict:
    payload = load_json(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("pagination"), dict) or "data" not in payload:
        raise BadResponseError("expected a Salla envelope {status, success, data, pagination}")
    if payload.get("success") is False:
        raise BadResponseError(f"Salla answered success=false: {str(payload.get('error'))[:200]}")
    return payload


def parse_page(body: bytes) -> list[dict]:
    return records_of(_envelope(body)["data"], "data")


def report_date(record: dict, timezone: str | None = None) -> date:
    stamp = record.get("updated_at") or record["date"]
    return date.fromisoformat(stamp["date"][:10])


class SallaOrdersClient(CreatedDateListClient):
    platform = "salla"
    max_per_page = MAX_PER_PAGE

    def __init__(
        self,
        base_url: str,
        access_token: str,
        http: HttpClient | None = None,
        page_size: int = MAX_PER_PAGE,
        created_margin_days: int = CREATED_MARGIN_DAYS,
    ) -> None:
        super().__init__(base_url, http, page_size, created_margin_days, (access_token,))
        self.auth = StaticBearerAuth(access_token, "salla")

    def fetch_orders(self, store_id: str, since: date, until: date, timezone: str) -> Iterator[Page]:
        params = {
            "from_date": self.created_from(since).isoformat(),
            "to_date": until.isoformat(),
            "per_page": str(self.page_size),
        }
        number = 1
        while True:
            page_params = {**params, "page": str(number)}
            context = f"salla orders page {number} of store {store_id} ({since}..{until})"
            response = self.http.request(
                "GET",
                self.base_url + API_PATH,
                params=page_params,
                auth=self.auth,
                classify=classify_unauthorized,
                validate=lambda r: _envelope(r.content),
                context=context,
                account_id=store_id,
            )
            pagination = _envelope(response.content)["pagination"]
            yield Page(response.content, parse_page(response.content), {"method": "GET", "url": self.base_url + API_PATH, "path": API_PATH, "params": page_params})
            try:
                done = int(pagination.get("currentPage", number)) >= int(pagination.get("totalPages", 1))
            except (TypeError, ValueError):
                raise BadResponseError(f"{context}: pagination is not numeric", platform="salla", account_id=store_id) from None
            if done:
                return
            number += 1
            if number > MAX_PAGES:
                raise BadResponseError(f"{context}: more than {MAX_PAGES} pages; stopping", platform="salla", account_id=store_id)


def fetch(client: SallaOrdersClient, store_id: str, since: date, until: date, timezone: str):
    return client.fetch_orders(store_id, since, until, timezone)
