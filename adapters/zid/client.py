"""Zid ``GET /v1/managers/store/orders``: manager headers, page numbers from ``total_order_count``.

Every request carries ``Authorization: Bearer <authorization token>``,
``X-Manager-Token``, ``Role: Manager`` and ``Store-Id``. Zid filters by creation
date only (``date_from`` / ``date_to``, store-local days), so the window asked
for starts ``created_margin_days`` early (see ``adapters.stores``); ``per_page``
<= 100; pages until ``page * per_page >= total_order_count`` (or an empty page).
``created_at`` / ``updated_at`` are ``"YYYY-MM-DD HH:MM:SS"`` in store-local time
with no zone: they are kept as sent and the report date is ``updated_at``'s day
(no conversion). ``order_total`` is a string. UTMs: ``marketing`` (see
``sandbox/platforms/zid.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from adapters.base import Page
from adapters.errors import BadResponseError
from adapters.http import HttpClient
from adapters.stores import (
    CREATED_MARGIN_DAYS,
    MAX_PAGES,
    CreatedDateListClient,
    classify_unauthorized,
    load_json,
    records_of,
)

DEFAULT_BASE_URL = "https://api.zid.sa"
API_PATH = "/v1/managers/store/orders"
MAX_PER_PAGE = 100


def _answer(body: bytes) -> dict:
    payload = load_json(body)
    if not isinstance(payload, dict) or "orders" not in payload:
        raise BadResponseError("expected a Zid answer {orders, total_order_count}")
    return payload


def parse_page(body: bytes) -> list[dict]:
    return records_of(_answer(body)["orders"], "orders")


def report_date(record: dict, timezone: str | None = None) -> date:
    """``updated_at`` is store-local already: its date, unconverted."""
    return date.fromisoformat(str(record.get("updated_at") or record["created_at"])[:10])


class ZidOrdersClient(CreatedDateListClient):
    platform = "zid"
    max_per_page = MAX_PER_PAGE

    def __init__(
        self,
        base_url: str,
        authorization: str,
        manager_token: str,
        http: HttpClient | None = None,
        page_size: int = MAX_PER_PAGE,
        created_margin_days: int = CREATED_MARGIN_DAYS,
    ) -> None:
        super().__init__(base_url, http, page_size, created_margin_days, (authorization, manager_token))
        self._authorization = authorization
        self._manager_token = manager_token

    def fetch_orders(self, store_id: str, since: date, until: date, timezone: str) -> Iterator[Page]:
        headers = {
            "Authorization": f"Bearer {self._authorization}",
            "X-Manager-Token": self._manager_token,
            "Role": "Manager",
            "Store-Id": str(store_id),
            "Accept-Language": "en",
        }
        params = {
            "date_from": self.created_from(since).isoformat(),
            "date_to": until.isoformat(),
            "per_page": str(self.page_size),
        }
        for number in range(1, MAX_PAGES + 1):
            page_params = {**params, "page": str(number)}
            context = f"zid orders page {number} of store {store_id} ({since}..{until})"
            response = self.http.request(
                "GET",
                self.base_url + API_PATH,
                params=page_params,
                headers=headers,
                classify=classify_unauthorized,
                validate=lambda r: _answer(r.content),
                context=context,
                account_id=store_id,
            )
            answer = _answer(response.content)
            records = parse_page(response.content)
            yield Page(response.content, records, {"method": "GET", "url": self.base_url + API_PATH, "path": API_PATH, "params": page_params})
            try:
                total = int(answer.get("total_order_count") or 0)
            except (TypeError, ValueError):
                raise BadResponseError(f"{context}: total_order_count is not a number", platform="zid", account_id=store_id) from None
            if not records or number * self.page_size >= total:
                return
        raise BadResponseError(f"zid: more than {MAX_PAGES} pages for store {store_id}; stopping", account_id=store_id)


def fetch(client: ZidOrdersClient, store_id: str, since: date, until: date, timezone: str):
    return client.fetch_orders(store_id, since, until, timezone)
