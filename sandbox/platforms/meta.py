"""Meta Marketing API Insights over the world's Meta ad accounts.

``GET /meta/v{ver}/act_{account_id}/insights``: the access token as ``access_token``
or a bearer header; ``level`` campaign, adset or ad (ids of a finer level than the
one asked for are left out, as Meta does); ``time_increment=1``; ``time_range``
``{"since", "until"}`` (default the last 30 days); ``fields``; optional
``action_attribution_windows``; cursor paging with ``limit`` and ``after``, the
``paging.next`` URL carrying the token as the real API's does. Numbers are
strings, money with two decimals; purchases come as ``actions`` and
``action_values`` under three equal action types, with a few funnel steps.

Errors are Graph API errors (HTTP 400 with ``error.code``: 190 an expired token,
100 a bad parameter or an unknown account, 80000 an account throttled).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from datetime import date, timedelta
from urllib.parse import quote, urlencode

from sandbox.faults import RecordAccess
from sandbox.platforms.base import AdTraits, PlatformApi, RealisticProfile, bearer
from sandbox.wire import Response, Route

EXPIRED_MESSAGE = (
    "Error validating access token: Session has expired on Tuesday, 01-Apr-25 10:00:00 PDT. "
    "The current time is Wednesday, 02-Apr-25 09:00:00 PDT."
)


def trace_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(9)).decode()


def meta_error(
    status: int,
    code: int,
    message: str,
    error_type: str,
    subcode: int | None = None,
    headers: dict | None = None,
    is_transient: bool = False,
) -> Response:
    error: dict = {"message": message, "type": error_type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if is_transient:
        error["is_transient"] = True
    error["fbtrace_id"] = trace_id()
    return Response.json(
        status,
        {"error": error},
        {"WWW-Authenticate": 'OAuth "Facebook Platform"', **(headers or {})},
    )


DEFAULT_FIELDS = (
    "campaign_id,campaign_name,spend,impressions,clicks,reach,actions,action_values,account_currency,date_start,date_stop"
)
KNOWN_FIELDS = {
    "account_id",
    "account_name",
    "account_currency",
    "campaign_id",
    "campaign_name",
    "spend",
    "impressions",
    "clicks",
    "reach",
    "frequency",
    "actions",
    "action_values",
    "date_start",
    "date_stop",
    "adset_id",
    "adset_name",
    "ad_id",
    "ad_name",
}
# Insights levels -> the sandbox world's grain. Ids of a finer level than the one asked
# for (ad_id at level=adset) are left out of the rows, as Meta does.
LEVELS = {"campaign": "campaign", "adset": "ad_group", "ad": "ad"}
# action_attribution_windows Meta accepts; each action then carries its value under each window asked for.
ATTRIBUTION_WINDOWS = ("1d_view", "7d_view", "28d_view", "1d_click", "7d_click", "28d_click", "1d_ev")
CLICK_SHARE = 0.85  # of a purchase's value under 7d_click + 1d_view, the click-through part
FINER_FIELDS = {
    "campaign": {"adset_id", "adset_name", "ad_id", "ad_name"},
    "adset": {"ad_id", "ad_name"},
    "ad": set(),
}
PURCHASE_TYPES = (
    "offsite_conversion.fb_pixel_purchase",
    "omni_purchase",
    "purchase",
)
ADD_TO_CART_TYPES = (
    "add_to_cart",
    "offsite_conversion.fb_pixel_add_to_cart",
    "omni_add_to_cart",
)


# -- the rows of a good answer, for the bad_data faults ----------------------------

TRAITS = AdTraits(
    id_digits=17,
    reach=True,
    utm_sources=(("facebook", "paid_social"), ("fb", "paid"), ("ig", "paid_social"), ("Instagram", "cpc"), ("Facebook", "cpc")),
    store_orders_per_conversion=0.35,
)


def _get(row: dict, metric: str) -> float:
    if metric == "conversion_value":
        values = [float(v["value"]) for v in row.get("action_values", []) if isinstance(v, dict)]
        return max(values) if values else 0.0
    return float(row.get(metric) or 0)


def _set(row: dict, metric: str, value: float) -> None:
    if metric == "spend":
        row["spend"] = f"{value:.2f}"
    elif metric == "conversion_value":
        row["action_values"] = [{**v, "value": f"{value:.2f}"} for v in row.get("action_values", []) if isinstance(v, dict)] or [
            {"action_type": "offsite_conversion.fb_pixel_purchase", "value": f"{value:.2f}"}
        ]
    else:
        row[metric] = str(int(value))


RECORD_ACCESS = RecordAccess(
    rows=lambda payload: [payload["data"]] if isinstance(payload, dict) and isinstance(payload.get("data"), list) else [],
    get=_get,
    set=_set,
    day=lambda row: row.get("date_start", ""),
)


class MetaApi(PlatformApi):
    platform = "meta"
    record_access = RECORD_ACCESS

    @staticmethod
    def new_credentials() -> dict:
        return {"access_token": "EAAB" + secrets.token_urlsafe(48)}

    @classmethod
    def connection(cls, sandbox_url: str, creds: dict, **options) -> dict:
        return {"conn_type": "http", "host": f"{sandbox_url}/meta", "password": creds["access_token"], "extra": {"api_version": "v21.0"}}

    def routes(self) -> list:
        return [Route("GET", re.compile(r"^/meta/v(\d+\.\d+)/act_([^/]+)/insights/?$"), "meta", "insights", self.insights, True)]

    def not_found(self, request, status: int):
        return meta_error(400, 100, "Unknown path components: " + request.path, "OAuthException", 2500)

    def insights(self, request, version: str, account_id: str) -> Response:
        token = request.query.get("access_token") or bearer(request.headers)
        if not token or not secrets.compare_digest(token, self.credentials["access_token"]):
            return meta_error(400, 190, EXPIRED_MESSAGE, "OAuthException", 463)
        if not self.world.has_account("meta", account_id):
            return meta_error(
                400,
                100,
                f"Unsupported get request. Object with ID 'act_{account_id}' does not exist, cannot be loaded due to "
                "missing permissions, or does not support this operation. Please read the Graph API documentation at "
                "https://developers.facebook.com/docs/graph-api",
                "GraphMethodException",
                33,
            )
        query = request.query
        level = query.get("level", "campaign")
        if level not in LEVELS:
            return meta_error(
                400,
                100,
                f"(#100) level must be one of the following values: account, campaign, adset, ad (sandbox: {', '.join(LEVELS)})",
                "OAuthException",
            )
        if query.get("time_increment", "1") != "1":
            return meta_error(400, 100, "(#100) this sandbox serves time_increment=1 only", "OAuthException")
        today = self.today
        try:
            if "time_range" in query:
                time_range = json.loads(query["time_range"])
                since = date.fromisoformat(time_range["since"])
                until = date.fromisoformat(time_range["until"])
            else:
                since, until = today - timedelta(days=30), today - timedelta(days=1)
        except (ValueError, KeyError, TypeError):
            return meta_error(
                400, 100, "(#100) Param time_range must be a JSON object with since and until dates", "OAuthException"
            )
        if since > until:
            return meta_error(400, 100, "(#100) time_range: since must not be after until", "OAuthException")
        fields = [f for f in query.get("fields", DEFAULT_FIELDS).split(",") if f]
        unknown = [f for f in fields if f not in KNOWN_FIELDS]
        if unknown:
            return meta_error(400, 100, f"(#100) {unknown[0]} is not valid for fields param.", "OAuthException")
        windows: list[str] = []
        if "action_attribution_windows" in query:
            try:
                windows = json.loads(query["action_attribution_windows"])
                if not isinstance(windows, list) or not windows or not all(isinstance(w, str) for w in windows):
                    raise ValueError
            except ValueError:
                return meta_error(400, 100, "(#100) action_attribution_windows must be a JSON array of windows", "OAuthException")
            if any(w not in ATTRIBUTION_WINDOWS for w in windows):
                return meta_error(
                    400,
                    100,
                    f"(#100) action_attribution_windows[0] must be one of the following values: {', '.join(ATTRIBUTION_WINDOWS)}",
                    "OAuthException",
                )
        try:
            limit = int(query.get("limit", "25"))
            offset = decode_cursor(query["after"]) + 1 if "after" in query else 0
            if limit < 1 or offset < 0:
                raise ValueError
        except ValueError:
            return meta_error(400, 100, "(#100) Invalid limit or cursor", "OAuthException")

        account = self.world.account("meta", account_id)
        rows = self.server.paged_rows("meta", account.account_id, since, until, today, LEVELS[level])
        page = rows[offset : offset + limit]
        fields = [f for f in fields if f not in FINER_FIELDS[level]]
        payload: dict = {"data": [insights_record(account, row, fields, windows) for row in page]}
        if page:
            first, last = offset, offset + len(page) - 1
            paging: dict = {"cursors": {"before": encode_cursor(first), "after": encode_cursor(last)}}
            base_params = {k: v for k, v in query.items() if k not in ("after", "before")}
            # The real API puts the access token into paging URLs, whichever way it came.
            base_params.setdefault("access_token", token)
            page_url = f"http://{request.host}{quote(request.path)}?"
            if last + 1 < len(rows):
                paging["next"] = page_url + urlencode({**base_params, "after": encode_cursor(last)})
            if offset > 0:
                paging["previous"] = page_url + urlencode({**base_params, "before": encode_cursor(first)})
            payload["paging"] = paging
        throttle = {"app_id_util_pct": 0.5, "acc_id_util_pct": 1.2, "ads_api_access_tier": "standard_access"}
        headers = {"x-fb-ads-insights-throttle": json.dumps(throttle), "x-fb-trace-id": trace_id()}
        return Response.json(200, payload, headers)

    def fault_body(self, kind: str, fault, ctx):
        if kind == "http_500":
            return meta_error(
                int(fault.params.get("status", 500)),
                2,
                "An unexpected error has occurred. Please retry your request later.",
                "OAuthException",
                is_transient=True,
            )
        if kind == "rate_limited":
            retry_after = int(fault.params.get("retry_after", 60))
            code = int(fault.params.get("code", 80000))
            minutes = max(0, -(-retry_after // 60))
            usage = {
                ctx.group(2): [
                    {
                        "type": "ads_insights",
                        "call_count": 100,
                        "total_cputime": 12,
                        "total_time": 40,
                        "estimated_time_to_regain_access": minutes,
                    }
                ]
            }
            message = (
                "(#80000) There have been too many calls from this ad-account. Wait a bit and try again. "
                "For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
                if code >= 80000
                else f"(#{code}) User request limit reached"
            )
            return meta_error(
                400,
                code,
                message,
                "OAuthException",
                2446079 if code >= 80000 else None,
                headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
            )
        if kind == "auth_expired":
            return meta_error(400, 190, EXPIRED_MESSAGE, "OAuthException", 463)
        if kind == "auth_revoked":
            return meta_error(
                400,
                190,
                "Error validating access token: The user has not authorized application 1234567890.",
                "OAuthException",
                458,
            )
        return None


# -- the wire format -------------------------------------------------------------


def encode_cursor(index: int) -> str:
    return base64.b64encode(str(index).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        return int(base64.b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except Exception as exc:
        raise ValueError(f"bad cursor {cursor!r}") from exc


def money(value: float) -> str:
    return f"{value:.2f}"


def actions(row: dict) -> tuple[list[dict], list[dict]]:
    """Derived actions: a few funnel steps plus the purchase under three equal types."""
    clicks = row["clicks"]
    purchases = row["conversions"]
    link_clicks = int(clicks * 0.87)
    landing_page_views = int(link_clicks * 0.78)
    add_to_cart = round(purchases * 3.1)
    cart_value = row["conversion_value"] * 2.4
    counts: list[dict] = []
    values: list[dict] = []
    for action_type, value in (("landing_page_view", landing_page_views), ("link_click", link_clicks)):
        if value:
            counts.append({"action_type": action_type, "value": str(value)})
    if add_to_cart:
        for action_type in ADD_TO_CART_TYPES:
            counts.append({"action_type": action_type, "value": str(add_to_cart)})
            values.append({"action_type": action_type, "value": money(cart_value)})
    if purchases:
        for action_type in PURCHASE_TYPES:
            counts.append({"action_type": action_type, "value": str(purchases)})
            values.append({"action_type": action_type, "value": money(row["conversion_value"])})
    return counts, values


def by_window(entries: list[dict], windows: list[str], as_money: bool) -> list[dict]:
    """Each action's value under each window asked for (the world's conversions are 7d_click + 1d_view:
    a click-through share and a view-through rest; other windows get the click-through part)."""
    out = []
    for entry in entries:
        total = float(entry["value"])
        click = round(total * CLICK_SHARE, 2) if as_money else round(total * CLICK_SHARE)
        parts = {w: (total - click if w == "1d_view" else click) for w in windows}
        out.append({**entry, **{w: (money(v) if as_money else str(int(v))) for w, v in parts.items()}})
    return out


def insights_record(account, row: dict, fields: list[str], windows: list[str] | None = None) -> dict:
    """One row of the world as an Insights record with ``fields`` (and the actions under ``windows``)."""
    day = row["date"].isoformat()
    counts, values = actions(row)
    if windows:
        counts, values = by_window(counts, windows, as_money=False), by_window(values, windows, as_money=True)
    available = {
        "account_id": account.account_id,
        "account_name": account.name,
        "account_currency": account.currency,
        "campaign_id": row["campaign_id"],
        "campaign_name": row["campaign_name"],
        "spend": money(row["spend"]),
        "impressions": str(row["impressions"]),
        "clicks": str(row["clicks"]),
        "reach": str(row["reach"]),
        "frequency": f"{row['impressions'] / row['reach']:.6f}" if row["reach"] else "0",
        "actions": counts,
        "action_values": values,
        "adset_id": row.get("ad_group_id"),
        "adset_name": row.get("ad_group_name"),
        "ad_id": row.get("ad_id"),
        "ad_name": row.get("ad_name"),
    }
    record = {}
    for name in fields:
        if name in ("date_start", "date_stop"):
            continue
        value = available[name]
        if isinstance(value, list) and not value:
            continue  # Meta leaves out action lists with nothing in them
        record[name] = value
    record["date_start"] = day
    record["date_stop"] = day
    return record


API = MetaApi


# The fields of a campaign-day record in the realistic evaluation world (what the daily sync asks for).
REALISTIC_FIELDS = ("campaign_id", "campaign_name", "spend", "impressions", "clicks", "reach", "actions", "action_values", "account_currency")


def realistic_levels(rng, name: str) -> tuple[str, float, float, float, float]:
    weekday, ctr, cpm, cvr = "social", rng.uniform(0.009, 0.016), rng.uniform(8.0, 16.0), rng.uniform(0.02, 0.045)
    return weekday, ctr, cpm, cvr, rng.uniform(2.2, 5.0)


def realistic_record(account, row: dict) -> dict:
    return insights_record(account, {**row, "reach": max(1, round(row["impressions"] / 1.7))}, list(REALISTIC_FIELDS))


REALISTIC = RealisticProfile(
    rotation=10,
    account_id=("10", 16),
    campaign_id=("1202", 18),
    campaign_names=(
        "Prospecting - Broad",
        "Retargeting - 30d Visitors",
        "Advantage+ Shopping",
        "Lookalike - Purchasers 1%",
        "Prospecting - Interests",
    ),
    levels=realistic_levels,
    record=realistic_record,
)


# The demo world's accounts on this platform (fields: sandbox.world.demo_accounts).
DEMO_ACCOUNTS = (
    {
        "order": 1,
        "account_id": "1000000001",
        "workspace_id": "northwind_us",
        "currency": "USD",
        "timezone": "America/New_York",
        "name": "Northwind Outdoor - Meta",
        "campaigns": (
            {"campaign_id": "120210000000000001", "name": "Prospecting - Broad", "daily_spend": 1200.0, "cpm": 12.0, "ctr": 0.012, "cvr": 0.05, "aov": 70.0, "frequency": 1.25},
            {"campaign_id": "120210000000000002", "name": "Retargeting - 30d", "daily_spend": 450.0, "cpm": 18.0, "ctr": 0.02, "cvr": 0.08, "aov": 75.0, "frequency": 2.1},
            {"campaign_id": "120210000000000003", "name": "Lookalike - Purchasers 1%", "daily_spend": 800.0, "cpm": 14.0, "ctr": 0.014, "cvr": 0.04, "aov": 72.0, "frequency": 1.35},
        ),
    },
    {
        "order": 3,
        "account_id": "2000000002",
        "workspace_id": "lumen_eu",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "name": "Lumen Home - Meta",
        "campaigns": (
            {"campaign_id": "120210000000000101", "name": "Prospecting - Advantage+ Shopping", "daily_spend": 950.0, "cpm": 9.5, "ctr": 0.013, "cvr": 0.045, "aov": 62.0, "frequency": 1.3},
            {"campaign_id": "120210000000000102", "name": "Retargeting - 14d Viewers", "daily_spend": 320.0, "cpm": 15.0, "ctr": 0.022, "cvr": 0.085, "aov": 58.0, "frequency": 2.2},
            {"campaign_id": "120210000000000103", "name": "Prospecting - Interests Home Decor", "daily_spend": 600.0, "cpm": 11.0, "ctr": 0.011, "cvr": 0.045, "aov": 66.0, "frequency": 1.3},
        ),
    },
)
