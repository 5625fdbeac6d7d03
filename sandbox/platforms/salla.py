"""Salla Merchant API ``GET /admin/v2/orders`` over the sandbox's store orders.

``GET /salla/{store_id}/admin/v2/orders`` (the prefix stands in for
``https://api.salla.dev``; Salla knows the store from the token), Bearer token.
``page``, ``per_page`` (at most 60), ``from_date`` / ``to_date`` (``YYYY-MM-DD``,
store-local, on the order's creation date), newest first. Envelope
``{"status":200,"success":true,"data":[...],"pagination":{count,total,perPage,currentPage,totalPages,links}}``.
Amounts are JSON numbers (``amounts.total{amount,currency}``), dates
``{date,timezone_type,timezone}`` in store-local time, ``status{id,name,slug}``.

Where the UTMs are (Salla documents no attribution fields on orders; this is the
sandbox's choice, which the adapter passes through untouched):
``source_details{type, value, referrer, landing_page, last_visit_at{date,timezone}, utm{source,medium,campaign,content,term}}``.
Refunds: ``amounts.refunded{amount,currency}`` and ``updated_at`` moves.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from sandbox.platforms.base import PlatformApi, bearer, day_params, page_params
from sandbox.wire import Response, Route

MAX_PER_PAGE = 60
STATUS = {
    "paid": (566146469, "تم التنفيذ", "completed"),
    "partially_refunded": (566146469, "تم التنفيذ", "completed"),
    "refunded": (1298199463, "مسترجع", "restored"),
    "cancelled": (525144736, "ملغي", "canceled"),
}


def salla_date(value: datetime, tz: ZoneInfo, name: str) -> dict:
    return {"date": value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S.000000"), "timezone_type": 3, "timezone": name}


def order_object(order: dict, tz: ZoneInfo, tz_name: str) -> dict:
    utm = order["utm"]
    status_id, status_name, slug = STATUS[order["status"]]
    details = {
        "type": "utm" if utm else ("referral" if order["referrer"] else "direct"),
        "value": utm.get("source") or order["referrer"],
        "referrer": order["referrer"],
        "landing_page": order["landing_page"],
        "last_visit_at": salla_date(order["last_visit_at"], tz, tz_name) if order["last_visit_at"] else None,
        "utm": {k: utm.get(k) for k in ("source", "medium", "campaign", "content", "term")} if utm else None,
    }
    number = order["order_number"]
    return {
        "id": number,
        "reference_id": 20000000 + number % 10_000_000,
        "date": salla_date(order["created_at"], tz, tz_name),
        "updated_at": salla_date(order["updated_at"], tz, tz_name),
        "status": {"id": status_id, "name": status_name, "slug": slug, "customized": {"id": status_id, "name": status_name}},
        "payment_method": "mada",
        "source": "store",
        "source_details": details,
        "amounts": {
            "total": {"amount": order["total"], "currency": order["currency"]},
            "refunded": {"amount": order["refunded_amount"], "currency": order["currency"]},
        },
    }


def _error(status: int, code: str, message: str):
    return Response.json(status, {"status": status, "success": False, "error": {"code": code, "message": message}})


class SallaApi(PlatformApi):
    platform = "salla"

    @staticmethod
    def new_credentials() -> dict:
        return {"access_token": "ory_at_" + secrets.token_urlsafe(32)}

    def fault_body(self, kind: str, fault, ctx):
        return fault_body(kind, fault, ctx)

    def routes(self) -> list:
        return [
            Route("GET", re.compile(r"^/salla/(\d+)/admin/v2/orders/?$"), "salla", "orders", self.orders, True, account_group=1)
        ]

    def orders(self, request, store_id: str):
        self.count("orders")
        token = bearer(request.headers)
        if not token or not secrets.compare_digest(token, self.credentials["access_token"]):
            return _error(401, "Unauthorized", "The access token should be a valid token.")
        if not self.server.stores.has_store("salla", store_id):
            return _error(404, "not_found", "The store was not found.")
        store = self.server.stores.store("salla", store_id)
        tz = ZoneInfo(store.timezone)
        q = request.query
        try:
            page, per_page = page_params(q, 15, MAX_PER_PAGE)
            since, until = day_params(q, "from_date", "to_date")
        except ValueError as exc:
            return _error(422, "validation_failed", str(exc))
        orders = self.server.stores.created_between("salla", store_id, self.today, since, until)
        total_pages = max(1, -(-len(orders) // per_page))
        chunk = orders[(page - 1) * per_page : page * per_page]
        links = {}
        base = f"{request.path}?per_page={per_page}"
        if page < total_pages:
            links["next"] = f"{base}&page={page + 1}"
        if page > 1:
            links["previous"] = f"{base}&page={page - 1}"
        payload = {
            "status": 200,
            "success": True,
            "data": [order_object(o, tz, store.timezone) for o in chunk],
            "pagination": {
                "count": len(chunk),
                "total": len(orders),
                "perPage": per_page,
                "currentPage": page,
                "totalPages": total_pages,
                "links": links,
            },
        }
        return Response.json(200, payload)


def fault_body(kind: str, fault, ctx):
    if kind == "rate_limited":
        response = _error(429, "too_many_requests", "Too Many Attempts.")
        if fault.params.get("retry_after") is not None:
            response.headers["Retry-After"] = str(fault.params["retry_after"])
        return response
    if kind in ("auth_expired", "auth_revoked"):
        return _error(401, "Unauthorized", "The access token should be a valid token.")
    return None



API = SallaApi
