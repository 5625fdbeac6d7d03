"""WooCommerce REST ``GET /wp-json/wc/v3/orders`` over the sandbox's store orders.

``GET /woocommerce/{site}/wp-json/wc/v3/orders`` (the prefix stands in for the
shop's own domain), HTTP Basic auth with the consumer key and secret. Filters
``modified_after`` / ``modified_before`` (exclusive; site-local time unless
``dates_are_gmt=true``), ``orderby`` (``date`` default, ``id``, ``modified``),
``order`` (``desc`` default), ``per_page`` <= 100, ``page``. A bare JSON array with
``X-WP-Total`` / ``X-WP-TotalPages`` headers; a page past the last is a 400
``rest_post_invalid_page_number``. ``total`` and refund totals are strings;
``date_*`` are site-local without a zone, ``date_*_gmt`` UTC. Attribution sits in
``meta_data`` (``_wc_order_attribution_*``).
"""

from __future__ import annotations

import base64
import re
import secrets
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sandbox.platforms.base import PlatformApi, page_params
from sandbox.wire import Response, Route

MAX_PER_PAGE = 100
STATUS = {"paid": "completed", "partially_refunded": "completed", "refunded": "refunded", "cancelled": "cancelled"}


def _local(value: datetime | None, tz: ZoneInfo | None) -> str | None:
    if value is None:
        return None
    value = value.astimezone(tz) if tz else value.astimezone(UTC)
    return value.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S")


def order_object(order: dict, tz: ZoneInfo) -> dict:
    utm = order["utm"]
    source_type = "utm" if utm else ("referral" if order["referrer"] else "typein")
    meta = {"_wc_order_attribution_source_type": source_type}
    for key in ("source", "medium", "campaign", "content", "term"):
        if key in utm:
            meta[f"_wc_order_attribution_utm_{key}"] = utm[key]
    if order["referrer"]:
        meta["_wc_order_attribution_referrer"] = order["referrer"]
    meta["_wc_order_attribution_session_entry"] = "https://lumen.example" + order["landing_page"]
    if order["last_visit_at"] is not None:
        meta["_wc_order_attribution_session_start_time"] = order["last_visit_at"].astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    number = order["order_number"]
    refunds = []
    if order["refunded_amount"] and order["status"] != "cancelled":
        refunds.append({"id": number + 1, "reason": "", "total": f"-{order['refunded_amount']:.2f}"})
    return {
        "id": number,
        "parent_id": 0,
        "number": str(number),
        "order_key": f"wc_order_{number:x}",
        "created_via": "checkout",
        "status": STATUS[order["status"]],
        "currency": order["currency"],
        "date_created": _local(order["created_at"], tz),
        "date_created_gmt": _local(order["created_at"], None),
        "date_modified": _local(order["updated_at"], tz),
        "date_modified_gmt": _local(order["updated_at"], None),
        "date_paid": _local(order["created_at"], tz),
        "date_paid_gmt": _local(order["created_at"], None),
        "total": f"{order['total']:.2f}",
        "total_tax": "0.00",
        "payment_method": "stripe",
        "refunds": refunds,
        "meta_data": [{"id": number * 10 + i, "key": k, "value": v} for i, (k, v) in enumerate(meta.items())],
    }


def _error(status: int, code: str, message: str):
    return Response.json(status, {"code": code, "message": message, "data": {"status": status}})


class WooCommerceApi(PlatformApi):
    platform = "woocommerce"

    @staticmethod
    def new_credentials() -> dict:
        return {"consumer_key": "ck_" + secrets.token_hex(20), "consumer_secret": "cs_" + secrets.token_hex(20)}

    def routes(self) -> list:
        return [
            Route(
                "GET",
                re.compile(r"^/woocommerce/([a-z0-9][a-z0-9\-]*)/wp-json/wc/v3/orders/?$"),
                "woocommerce",
                "orders",
                self.orders,
                True,
                account_group=1,
            )
        ]

    def _authorized(self, headers: dict) -> bool:
        value = headers.get("authorization", "")
        if value[:6].lower() != "basic ":
            return False
        try:
            key, _, secret = base64.b64decode(value[6:]).decode().partition(":")
        except ValueError:
            return False
        c = self.credentials
        return secrets.compare_digest(key, c["consumer_key"]) and secrets.compare_digest(secret, c["consumer_secret"])

    def orders(self, request, site: str):
        self.count("orders")
        if not self._authorized(request.headers):
            return _error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        if not self.server.stores.has_store("woocommerce", site):
            return _error(404, "rest_no_route", "No route was found matching the URL and request method.")
        store = self.server.stores.store("woocommerce", site)
        tz = ZoneInfo(store.timezone)
        q = request.query
        try:
            page, per_page = page_params(q, 10, MAX_PER_PAGE)
            gmt = q.get("dates_are_gmt", "false").lower() in ("1", "true")
            bounds = {}
            for name in ("modified_after", "modified_before"):
                if q.get(name):
                    value = datetime.fromisoformat(q[name].replace("Z", "+00:00"))
                    if value.tzinfo is None:
                        value = value.replace(tzinfo=UTC if gmt else tz)
                    bounds[name] = value
        except ValueError as exc:
            return _error(400, "rest_invalid_param", f"Invalid parameter(s): {exc}")
        orders = [
            o
            for o in self.server.stores.orders("woocommerce", site, as_of=self.today)
            if ("modified_after" not in bounds or o["updated_at"] > bounds["modified_after"])
            and ("modified_before" not in bounds or o["updated_at"] < bounds["modified_before"])
        ]
        key = {"id": lambda o: o["order_number"], "modified": lambda o: (o["updated_at"], o["order_number"])}.get(
            q.get("orderby", "date"), lambda o: (o["created_at"], o["order_number"])
        )
        orders.sort(key=key, reverse=q.get("order", "desc") == "desc")
        total_pages = -(-len(orders) // per_page)
        if page > max(1, total_pages):
            return _error(400, "rest_post_invalid_page_number", "The page number requested is larger than the number of pages available.")
        chunk = orders[(page - 1) * per_page : page * per_page]
        headers = {"X-WP-Total": str(len(orders)), "X-WP-TotalPages": str(total_pages)}
        return Response.json(200, [order_object(o, tz) for o in chunk], headers)


API = WooCommerceApi
