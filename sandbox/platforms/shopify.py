"""Shopify Admin GraphQL ``orders`` over the sandbox's store orders.

``POST /shopify/{shop}/admin/api/{version}/graphql.json`` (the prefix stands in for
``https://{shop}.myshopify.com``), header ``X-Shopify-Access-Token``, body
``{"query": ..., "variables": {"first", "after", "query"}}``. The search query
filters on ``updated_at:>=`` / ``updated_at:<=`` (``>``/``<`` too; ISO 8601 with
offset or ``Z``), orders come sorted by update time, ``first`` <= 250, paging by
``pageInfo{hasNextPage endCursor}`` and ``after``. The selection set is not
interpreted: every order field below is returned. Money is a string in
``totalPriceSet.shopMoney`` / ``totalRefundedSet.shopMoney`` (``"10.0"`` style,
as Shopify's Decimal); times are UTC with ``Z``.

Throttling is HTTP 200 with ``errors[].extensions.code = "THROTTLED"`` and
``extensions.cost.throttleStatus``; ``script(n)`` makes the next ``n`` requests
throttled (also the ``rate_limited`` fault). A wrong token gets Shopify's 401.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from datetime import UTC, datetime

from sandbox.platforms.base import PlatformApi
from sandbox.wire import Response, Route

MAX_FIRST = 250
BUCKET = {"maximumAvailable": 2000.0, "restoreRate": 100.0}
_FILTER = re.compile(r"updated_at:(>=|<=|>|<)'?\"?([0-9T:\-+.Z]+)'?\"?")


def iso_z(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(amount: float, currency: str) -> dict:
    return {"shopMoney": {"amount": str(round(amount, 2)), "currencyCode": currency}}


def order_node(order: dict, shop: str) -> dict:
    """One order as the GraphQL ``orders.edges[].node``."""
    utm = order["utm"]
    visit = None
    if order["last_visit_at"] is not None:
        visit = {
            "occurredAt": iso_z(order["last_visit_at"]),
            "landingPage": f"https://{shop}.myshopify.com{order['landing_page']}",
            "referrerUrl": order["referrer"],
            "source": "an unknown source" if not utm and not order["referrer"] else (utm.get("source") or "a referral"),
            "utmParameters": {k: utm.get(k) for k in ("source", "medium", "campaign", "content", "term")} if utm else None,
        }
    status = {"paid": "PAID", "partially_refunded": "PARTIALLY_REFUNDED", "refunded": "REFUNDED", "cancelled": "REFUNDED"}
    return {
        "id": order["order_id"],
        "name": f"#{order['order_number'] % 100000}",
        "createdAt": iso_z(order["created_at"]),
        "updatedAt": iso_z(order["updated_at"]),
        "processedAt": iso_z(order["created_at"]),
        "cancelledAt": iso_z(order["cancelled_at"]),
        "cancelReason": "CUSTOMER" if order["cancelled_at"] else None,
        "currencyCode": order["currency"],
        "displayFinancialStatus": status[order["status"]],
        "totalPriceSet": money(order["total"], order["currency"]),
        "totalRefundedSet": money(order["refunded_amount"], order["currency"]),
        "customerJourneySummary": {"lastVisit": visit, "ready": True},
    }


def throttled_body(requested: int = 252, available: float = 40.0) -> dict:
    return {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
            }
        ],
        "extensions": {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": None,
                "throttleStatus": {**BUCKET, "currentlyAvailable": available},
            }
        },
    }


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


class ShopifyApi(PlatformApi):
    platform = "shopify"

    @staticmethod
    def new_credentials() -> dict:
        return {"access_token": "shpat_" + secrets.token_hex(16)}

    def fault_body(self, kind: str, fault, ctx):
        return fault_body(kind, fault, ctx)

    def routes(self) -> list:
        return [
            Route(
                "POST",
                re.compile(r"^/shopify/([a-z0-9][a-z0-9\-]*)/admin/api/(\d{4}-\d{2})/graphql\.json$"),
                "shopify",
                "graphql",
                self.graphql,
                True,
                account_group=1,
            )
        ]

    def graphql(self, request, shop: str, version: str):
        self.count("graphql")
        token = request.headers.get("x-shopify-access-token", "")
        if not token or not secrets.compare_digest(token, self.credentials["access_token"]):
            return Response.json(401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
        scripted = self.take_scripted()
        if scripted is not None:
            return Response.json(200, throttled_body())
        try:
            body = json.loads(request.body or b"{}")
            query = body["query"]
            variables = body.get("variables") or {}
            first = int(variables.get("first") or 0)
            if "orders(" not in query.replace(" ", "") or not 1 <= first <= MAX_FIRST:
                raise ValueError(f"an orders query with variables.first from 1 to {MAX_FIRST} is served here")
        except (ValueError, KeyError, TypeError) as exc:
            return Response.json(200, {"errors": [{"message": str(exc), "extensions": {"code": "BAD_REQUEST"}}]})
        if not self.server.stores.has_store("shopify", shop):
            return Response.json(404, {"errors": "Not Found"})
        lower, upper = [], []
        for op, value in _FILTER.findall(variables.get("query") or ""):
            (lower if op.startswith(">") else upper).append((op, _parse_time(value)))
        orders = []
        for order in self.server.stores.orders("shopify", shop, as_of=self.today):
            at = order["updated_at"]
            if all(at >= v if op == ">=" else at > v for op, v in lower) and all(
                at <= v if op == "<=" else at < v for op, v in upper
            ):
                orders.append(order)
        orders.sort(key=lambda o: (o["updated_at"], o["order_number"]))
        start = _decode(variables["after"]) + 1 if variables.get("after") else 0
        chunk = orders[start : start + first]
        edges = [{"cursor": _encode(start + i), "node": order_node(o, shop)} for i, o in enumerate(chunk)]
        cost = 2 + len(chunk)
        payload = {
            "data": {
                "orders": {
                    "edges": edges,
                    "pageInfo": {
                        "hasNextPage": start + first < len(orders),
                        "endCursor": edges[-1]["cursor"] if edges else None,
                    },
                }
            },
            "extensions": {
                "cost": {
                    "requestedQueryCost": first + 2,
                    "actualQueryCost": cost,
                    "throttleStatus": {**BUCKET, "currentlyAvailable": BUCKET["maximumAvailable"] - cost},
                }
            },
        }
        return Response.json(200, payload)


def _encode(index: int) -> str:
    return base64.b64encode(json.dumps({"last_id": index, "last_value": index}).encode()).decode()


def _decode(cursor: str) -> int:
    return int(json.loads(base64.b64decode(cursor))["last_id"])


def fault_body(kind: str, fault, ctx):
    if kind == "rate_limited":
        return Response.json(200, throttled_body())
    if kind in ("auth_expired", "auth_revoked"):
        return Response.json(401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
    return None



API = ShopifyApi
