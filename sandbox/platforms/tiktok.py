"""TikTok Marketing API ``report/integrated/get`` over the world's TikTok accounts.

``GET /tiktok/open_api/v1.3/report/integrated/get/``, header ``Access-Token``.
Errors come with HTTP 200 and a non-zero ``code``; metrics are strings and a
missing one is ``"-"`` (video metrics of non-video campaigns, value metrics of
days without a payment); the day is ``"YYYY-MM-DD 00:00:00"``; paging by
``page``/``page_size``; at most ``max_days`` (30) days per request (else 40067).

Two levels: ``data_level=AUCTION_CAMPAIGN`` with ``dimensions=["campaign_id","stat_time_day"]``
and ``data_level=AUCTION_ADGROUP`` with ``dimensions=["adgroup_id","stat_time_day"]``
(attribute metrics ``adgroup_name``, ``campaign_id``, ``campaign_name`` allowed there);
the ad group rows sum exactly to the campaign rows (the world splits them).

``script(code, ...)`` makes the next requests answer with those codes (40100 rate
limit, 50000 system error, 40001/40002 permission, 40067 range too large).
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from datetime import date

from sandbox.platforms.base import AdTraits, PlatformApi, RealisticProfile, video_metrics
from sandbox.wire import Response, Route

MESSAGES = {
    40001: "No permission to operate advertiser.",
    40002: "Advertiser is inaccessible.",
    40067: "The time range is too large. Please shorten the time span.",
    40100: "Requests made too frequently. Please try again later.",
    40105: "Access token is invalid.",
    40000: "Invalid parameters.",
    50000: "System error, please try again later.",
}
VIDEO_METRICS = (
    "video_play_actions",
    "video_watched_2s",
    "video_views_p25",
    "video_views_p50",
    "video_views_p75",
    "video_views_p100",
)
# data_level -> (dimensions, the world's level, attribute metrics allowed at that level)
LEVELS = {
    "AUCTION_CAMPAIGN": (["campaign_id", "stat_time_day"], "campaign", {"campaign_name"}),
    "AUCTION_ADGROUP": (["adgroup_id", "stat_time_day"], "ad_group", {"campaign_name", "campaign_id", "adgroup_name"}),
}
KNOWN_METRICS = {
    "spend",
    "impressions",
    "clicks",
    "ctr",
    "cpc",
    "conversion",
    "complete_payment",
    "total_complete_payment_rate",
    *VIDEO_METRICS,
}

TRAITS = AdTraits(
    id_digits=16,
    extras=video_metrics(
        "video_play_actions",
        0.42,
        video_watched_2s=0.61,
        video_views_p25=0.48,
        video_views_p50=0.33,
        video_views_p75=0.21,
        video_views_p100=0.12,
    ),
    utm_sources=(("tiktok", "paid_social"), ("TikTok", "cpc")),
    store_orders_per_conversion=0.35,
)


def _is_video(campaign_name: str) -> bool:
    return "search" not in campaign_name.lower()


def metric_value(name: str, row: dict) -> str:
    """One metric as TikTok sends it: a string, ``"-"`` when it does not apply."""
    if name in ("campaign_name", "campaign_id"):
        return row[name]
    if name == "adgroup_name":
        return row["ad_group_name"]
    if name == "spend":
        return f"{row['spend']:.2f}"
    if name in ("impressions", "clicks"):
        return str(row[name])
    if name in ("conversion", "complete_payment"):
        return str(row["conversions"])
    if name == "total_complete_payment_rate":
        return f"{row['conversion_value']:.2f}" if row["conversion_value"] else "-"
    if name == "ctr":
        return f"{100 * row['clicks'] / row['impressions']:.2f}" if row["impressions"] else "-"
    if name == "cpc":
        return f"{row['spend'] / row['clicks']:.2f}" if row["clicks"] else "-"
    if name in VIDEO_METRICS:
        return str(row[name]) if _is_video(row["campaign_name"]) else "-"
    raise KeyError(name)


class TikTokApi(PlatformApi):
    platform = "tiktok"
    max_days = 30

    @staticmethod
    def new_credentials() -> dict:
        return {"access_token": secrets.token_hex(20)}

    @classmethod
    def connection(cls, sandbox_url: str, creds: dict, **options) -> dict:
        return {"conn_type": "http", "host": f"{sandbox_url}/tiktok", "password": creds["access_token"]}

    def fault_body(self, kind: str, fault, ctx):
        """TikTok answers errors with HTTP 200 and a non-zero ``code``."""
        codes = {
            "rate_limited": (40100, "Requests made too frequently. Please try again later."),
            "http_500": (50000, "System error. Please try again later."),
            "auth_expired": (40105, "Access token is invalid or has expired."),
            "auth_revoked": (40001, "No permission to operate this advertiser: authorization revoked."),
        }
        if kind not in codes:
            return None
        code, message = codes[kind]
        return Response.json(200, {"code": code, "message": message, "request_id": "sandbox-fault", "data": {}})

    def routes(self) -> list:
        return [
            Route("GET", re.compile(r"^/tiktok/open_api/v1\.3/report/integrated/get/?$"), "tiktok", "report", self.report),
        ]

    def _answer(self, code: int, data: dict | None = None, message: str | None = None):
        request_id = uuid.uuid4().hex
        payload = {"code": code, "message": message or MESSAGES.get(code, "OK"), "request_id": request_id, "data": data or {}}
        return Response.json(200, payload, {"X-Tt-Logid": request_id})

    def report(self, request):
        self.count("report")
        token = request.headers.get("access-token", "")
        if not token or not secrets.compare_digest(token, self.credentials["access_token"]):
            return self._answer(40105)
        scripted = self.take_scripted()
        if scripted is not None:
            return self._answer(int(scripted))
        q = request.query
        try:
            advertiser_id = q["advertiser_id"]
            dimensions = json.loads(q["dimensions"])
            metrics = json.loads(q["metrics"])
            since, until = date.fromisoformat(q["start_date"]), date.fromisoformat(q["end_date"])
            page, page_size = int(q.get("page", "1")), int(q.get("page_size", "10"))
            if not isinstance(metrics, list) or not 1 <= page_size <= 1000 or page < 1 or since > until:
                raise ValueError("bad metrics, page, page_size or dates")
        except (KeyError, ValueError, TypeError) as exc:
            return self._answer(40000, message=f"Invalid parameters: {exc}")
        if q.get("report_type", "BASIC") != "BASIC" or q.get("data_level") not in LEVELS:
            return self._answer(40000, message=f"Invalid parameters: report_type BASIC and data_level {' or '.join(LEVELS)} are served here")
        expected_dimensions, level, attributes = LEVELS[q["data_level"]]
        if dimensions != expected_dimensions:
            return self._answer(40000, message=f"Invalid parameters: dimensions must be {expected_dimensions} at {q['data_level']}")
        unknown = [m for m in metrics if m not in KNOWN_METRICS | attributes]
        if unknown:
            return self._answer(40000, message=f"Invalid parameters: unknown metric {unknown[0]}")
        if (until - since).days + 1 > self.max_days:
            return self._answer(40067)
        if not self.world.has_account("tiktok", advertiser_id):
            return self._answer(40001)
        account = self.world.account("tiktok", advertiser_id)
        rows = self.world.truth_rows("tiktok", account.account_id, since, until, as_of=self.today, level=level)
        total = len(rows)
        total_page = max(1, -(-total // page_size))
        chunk = rows[(page - 1) * page_size : page * page_size]
        items = [
            {
                "dimensions": {
                    expected_dimensions[0]: row["ad_group_id" if level == "ad_group" else "campaign_id"],
                    "stat_time_day": f"{row['date'].isoformat()} 00:00:00",
                },
                "metrics": {name: metric_value(name, row) for name in metrics},
            }
            for row in chunk
        ]
        data = {"list": items, "page_info": {"page": page, "page_size": page_size, "total_number": total, "total_page": total_page}}
        return self._answer(0, data)


API = TikTokApi


# The metrics of a campaign-day record in the realistic evaluation world.
REALISTIC_METRICS = ("campaign_name", "spend", "impressions", "clicks", "conversion", "complete_payment", "total_complete_payment_rate")


def realistic_levels(rng, name: str) -> tuple[str, float, float, float, float]:
    weekday, ctr, cpm, cvr = "social", rng.uniform(0.008, 0.015), rng.uniform(5.0, 10.0), rng.uniform(0.012, 0.025)
    return weekday, ctr, cpm, cvr, rng.uniform(2.2, 4.0)


def realistic_record(account, row: dict) -> dict:
    return {
        "dimensions": {"campaign_id": row["campaign_id"], "stat_time_day": f"{row['date'].isoformat()} 00:00:00"},
        "metrics": {name: metric_value(name, row) for name in REALISTIC_METRICS},
    }


REALISTIC = RealisticProfile(
    rotation=30,
    account_id=("71", 16),
    campaign_id=("17", 16),
    campaign_names=("Spark Ads - Creators", "In-Feed - Prospecting", "Catalog - Retargeting"),
    levels=realistic_levels,
    record=realistic_record,
    alternate=1,
)


# The demo world's accounts on this platform (fields: sandbox.world.demo_accounts).
DEMO_ACCOUNTS = (
    {
        "order": 5,
        "account_id": "7100000000000001",
        "workspace_id": "northwind_us",
        "currency": "USD",
        "timezone": "America/New_York",
        "name": "Northwind Outdoor - TikTok",
        "campaigns": (
            {"campaign_id": "1780000000000001", "name": "Spark Ads - Trail Gear", "daily_spend": 600.0, "cpm": 6.0, "ctr": 0.009, "cvr": 0.04, "aov": 60.0},
            {"campaign_id": "1780000000000002", "name": "Search Ads - Tents", "daily_spend": 400.0, "cpm": 9.0, "ctr": 0.02, "cvr": 0.05, "aov": 75.0},
        ),
    },
    {
        "order": 10,
        "account_id": "7100000000000002",
        "workspace_id": "souq_sa",
        "currency": "SAR",
        "timezone": "Asia/Riyadh",
        "name": "Souq Riyadh - TikTok",
        "campaigns": (
            {"campaign_id": "1780000000000101", "name": "Spark Ads - Abayas", "daily_spend": 1500.0, "cpm": 20.0, "ctr": 0.009, "cvr": 0.04, "aov": 250.0},
            {"campaign_id": "1780000000000102", "name": "Search Ads - Perfume", "daily_spend": 1000.0, "cpm": 30.0, "ctr": 0.02, "cvr": 0.05, "aov": 300.0},
        ),
    },
)
