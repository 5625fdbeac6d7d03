"""Zid Merchant API ``GET /v1/managers/store/orders`` over the sandbox's store orders.

``GET /zid/v1/managers/store/orders`` (the prefix stands in for
``https://api.zid.sa``). Headers: ``Authorization: Bearer <authorization token>``,
``X-Manager-Token``, ``Role: Manager`` and ``Store-Id``; a missing one is a 400
naming it, a wrong token a 401. ``page``, ``per_page`` (at most 100), ``date_from``
/ ``date_to`` (``YYYY-MM-DD``, store-local, on the creation date), newest first.
Answer ``{"status":"object","orders":[...],"total_order_count":N}``;
``order_total`` a string, ``currency_code``, ``created_at`` / ``updated_at``
``"YYYY-MM-DD HH:MM:SS"`` in store-local time without a zone.

Where the UTMs are (Zid documents no attribution fields on orders; this is the
sandbox's choice, passed through untouched by the adapter):
``marketing{utm_source, utm_medium, utm_campaign, utm_content, utm_term, referer, landing_url, last_visit_at}``
(``last_visit_at`` store-local like the other dates). Refunds: ``refunded_total``
and ``order_status.code`` (``refunded``, ``partially_refunded``, ``cancelled``).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from sandbox.platforms.base import PlatformApi, bearer, day_params, page_params
from sandbox.wire import Response, Route

MAX_PER_PAGE = 100
STATUS = {
    "paid": ("delivered", "تم التوصيل"),
    "partially_refunded": ("partially_refunded", "مسترجع جزئيا"),
    "refunded": ("refunded", "مسترجع"),
    "cancelled": ("cancelled", "ملغي"),
}


def _local(value: datetime | None, tz: ZoneInfo) -> str | None:
    return None if value is None else value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def order_object(order: dict, tz: ZoneInfo, store_id: str) -> dict:
    utm = order["utm"]
    code, name = STATUS[order["status"]]
    number = order["order_number"]
    return {
        "id": number,
        "code": f"Z{number % 10_000_000:07d}",
        "store_id": int(store_id),
        "order_total": f"{order['total']:.2f}",
        "order_total_string": f"{order['total']:.2f} {order['currency']}",
        "currency_code": order["currency"],
        "created_at": _local(order["created_at"], tz),
        "updated_at": _local(order["updated_at"], tz),
        "order_status": {"name": name, "code": code},
        "payment_status": "paid",
        "refunded_total": f"{order['refunded_amount']:.2f}",
        "marketing": {
            **{f"utm_{k}": utm[k] for k in ("source", "medium", "campaign", "content", "term") if k in utm},
            "referer": order["referrer"],
            "landing_url": order["landing_page"],
            "last_visit_at": _local(order["last_visit_at"], tz),
        },
    }


def _error(status: int, message: str, code: str = "error"):
    return Response.json(status, {"status": "error", "message": {"type": "error", "code": code, "description": message}})


class ZidApi(PlatformApi):
    platform = "zid"

    @staticmethod
    def new_credentials() -> dict:
        return {"authorization": secrets.token_urlsafe(40), "manager_token": secrets.token_urlsafe(40)}

    def routes(self) -> list:
        return [
            Route(
                "GET",
                re.compile(r"^/zid/v1/managers/store/orders/?$"),
                "zid",
                "orders",
                self.orders,
                True,
                account_group=None,
                account_header="store-id",
            )
        ]

    def orders(self, request):
        self.count("orders")
        h = request.headers
        for header in ("authorization", "x-manager-token", "store-id"):
            if not h.get(header):
                return _error(400, f"The {header.title()} header is required", "missing_header")
        if h.get("role", "").lower() != "manager":
            return _error(400, "The Role header is required and must be Manager", "missing_header")
        c = self.credentials
        token = bearer(h) or ""
        if not secrets.compare_digest(token, c["authorization"]) or not secrets.compare_digest(h["x-manager-token"], c["manager_token"]):
            return _error(401, "Unauthenticated.", "unauthenticated")
        store_id = h["store-id"].strip()
        if not self.server.stores.has_store("zid", store_id):
            return _error(403, f"The manager has no access to store {store_id}", "forbidden")
        store = self.server.stores.store("zid", store_id)
        tz = ZoneInfo(store.timezone)
        q = request.query
        try:
            page, per_page = page_params(q, 10, MAX_PER_PAGE)
            since, until = day_params(q, "date_from", "date_to")
        except ValueError as exc:
            return _error(422, str(exc), "validation_error")
        orders = self.server.stores.created_between("zid", store_id, self.today, since, until)
        chunk = orders[(page - 1) * per_page : page * per_page]
        payload = {"status": "object", "orders": [order_object(o, tz, store_id) for o in chunk], "total_order_count": len(orders)}
        return Response.json(200, payload)


API = ZidApi
