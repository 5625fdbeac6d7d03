"""Snapchat Marketing API over the world's Snapchat accounts.

- ``POST /snapchat/login/oauth2/access_token``: refresh-token grant; access tokens
  last ``token_ttl`` seconds (1800, as the real ones).
- ``GET /snapchat/v1/adaccounts/{id}``: the account with its ``timezone`` and ``currency``.
- ``GET /snapchat/v1/adaccounts/{id}/campaigns``: ``limit`` per page, ``paging.next_link``.
- ``GET /snapchat/v1/adaccounts/{id}/adsquads``: the account's ad squads (``campaign_id``
  of each), paged the same way.
- ``GET /snapchat/v1/campaigns/{id}/stats?granularity=DAY&fields=...&start_time&end_time``:
  times are local midnights with the account's UTC offset; ``spend`` and
  ``conversion_purchases_value`` are micro-currency integers; stats are numbers.
  With ``breakdown=adsquad`` the stat also has ``breakdown_stats.adsquad``: one
  ``AD_SQUAD`` timeseries per ad squad (the world's ad groups), summing exactly to
  the campaign's. ``swipe_up_attribution_window`` (default ``28_DAY``) and
  ``view_attribution_window`` (default ``1_DAY``) are checked and echoed in each
  stat.

Status strings come both ways, as the real API does: ``request_status`` is
``SUCCESS``, ``sub_request_status`` is ``success``. ``script(429, ...)`` answers the
next requests with 429 and no Retry-After.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sandbox.platforms.base import AdTraits, PlatformApi, bearer, video_metrics
from sandbox.wire import Response, Route

STAT_FIELDS = {
    "impressions": "impressions",
    "swipes": "clicks",
    "spend": "spend",
    "conversion_purchases": "conversions",
    "conversion_purchases_value": "conversion_value",
    "video_views": "video_views",
    "quartile_1": "quartile_1",
    "quartile_2": "quartile_2",
    "quartile_3": "quartile_3",
    "view_completion": "view_completion",
}
MICRO_FIELDS = {"spend", "conversion_purchases_value"}
MAX_DAYS = 32
# Attribution windows the stats endpoint accepts; the stat says which it used (the world's conversions are
# the same under each: the sandbox does not model attribution).
SWIPE_UP_WINDOWS = ("1_DAY", "7_DAY", "28_DAY")
VIEW_WINDOWS = ("1_HOUR", "3_HOUR", "6_HOUR", "1_DAY", "7_DAY", "28_DAY")

TRAITS = AdTraits(
    uuid_ids=True,
    extras=video_metrics("video_views", 0.35, quartile_1=0.52, quartile_2=0.36, quartile_3=0.24, view_completion=0.15),
    utm_sources=(("snapchat", "paid_social"), ("Snapchat", "cpc")),
    store_orders_per_conversion=0.35,
)


def local_midnight(day: date, tz: str) -> str:
    """``2026-11-01T00:00:00.000-07:00``: the day's start in the account's zone."""
    moment = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz))
    text = moment.isoformat(timespec="milliseconds")
    return text


class SnapchatApi(PlatformApi):
    platform = "snapchat"
    token_ttl = 1800.0

    @staticmethod
    def new_credentials() -> dict:
        return {
            "client_id": secrets.token_hex(16),
            "client_secret": secrets.token_urlsafe(24),
            "refresh_token": "snap-refresh-" + secrets.token_urlsafe(32),
        }

    @classmethod
    def connection(cls, sandbox_url: str, creds: dict, **options) -> dict:
        return cls.oauth_connection(sandbox_url, creds, "login/oauth2/access_token")

    def fault_body(self, kind: str, fault, ctx):
        if kind == "rate_limited":
            return Response.json(429, {"request_status": "ERROR", "request_id": "sandbox-fault", "msg": "Rate limit exceeded"})
        if kind in ("auth_expired", "auth_revoked"):
            return Response.json(401, {"request_status": "ERROR", "request_id": "sandbox-fault", "msg": "Unauthorized"})
        return None

    def routes(self) -> list:
        return [
            Route("POST", re.compile(r"^/snapchat/login/oauth2/access_token$"), "snapchat", "token", self.token),
            Route("GET", re.compile(r"^/snapchat/v1/adaccounts/([^/]+)/campaigns/?$"), "snapchat", "campaigns", self.campaigns),
            Route("GET", re.compile(r"^/snapchat/v1/adaccounts/([^/]+)/adsquads/?$"), "snapchat", "adsquads", self.adsquads),
            Route("GET", re.compile(r"^/snapchat/v1/adaccounts/([^/]+)/?$"), "snapchat", "adaccount", self.adaccount),
            Route("GET", re.compile(r"^/snapchat/v1/campaigns/([^/]+)/stats/?$"), "snapchat", "stats", self.stats),
        ]

    def _error(self, status: int, message: str, code: str = "E1001", **extra):
        return Response.json(
            status,
            {"request_status": "ERROR", "request_id": uuid.uuid4().hex, "debug_message": message, "display_message": message, "error_code": code, **extra},
        )

    def _ok(self, payload: dict):
        return Response.json(200, {"request_status": "SUCCESS", "request_id": uuid.uuid4().hex, **payload})

    def token(self, request):
        self.count("token")
        if not self.refresh_form_ok(request.body):
            return Response.json(400, {"error": "invalid_grant", "error_description": "Invalid refresh token"})
        token = self.issue_token("snap-access-", self.token_ttl)
        return Response.json(
            200,
            {"access_token": token, "token_type": "Bearer", "expires_in": int(self.token_ttl), "refresh_token": self.credentials["refresh_token"], "scope": "snapchat-marketing-api"},
        )

    def _guard(self, request, endpoint: str):
        """Auth and scripted answers; None when the request may proceed."""
        self.count(endpoint)
        if not self.token_valid(bearer(request.headers)):
            return self._error(401, "Unauthorized: the access token is invalid or expired", "E3003")
        scripted = self.take_scripted()
        if scripted == 429:
            return Response.json(429, {"request_status": "ERROR", "msg": "Rate limit exceeded"})
        if scripted is not None:
            return self._error(int(scripted), "Internal error", "E9999")
        return None

    def _account(self, account_id: str):
        return self.world.account("snapchat", account_id) if self.world.has_account("snapchat", account_id) else None

    def adaccount(self, request, account_id: str):
        denied = self._guard(request, "adaccount")
        if denied is not None:
            return denied
        account = self._account(account_id)
        if account is None:
            return self._error(403, f"No access to ad account {account_id}", "E3002")
        entity = {
            "id": account.account_id,
            "name": account.name,
            "type": "PARTNER",
            "status": "ACTIVE",
            "currency": account.currency,
            "timezone": account.timezone,
        }
        return self._ok({"adaccounts": [{"sub_request_status": "success", "adaccount": entity}]})

    def campaigns(self, request, account_id: str):
        def entities(account) -> list[dict]:
            return [{"id": c.campaign_id, "name": c.name, "ad_account_id": account.account_id, "status": "ACTIVE"} for c in account.campaigns]

        return self._list_page(request, account_id, "campaigns", "campaign", entities)

    def adsquads(self, request, account_id: str):
        def entities(account) -> list[dict]:
            return [
                {"id": g.ad_group_id, "name": g.name, "campaign_id": c.campaign_id, "status": "ACTIVE", "type": "SNAP_ADS"}
                for c in account.campaigns
                for g in self.world.ad_groups("snapchat", account.account_id, c.campaign_id)
            ]

        return self._list_page(request, account_id, "adsquads", "adsquad", entities)

    def _list_page(self, request, account_id: str, endpoint: str, singular: str, entities_of):
        """One page of an ad account's entity list: ``limit`` per page, ``paging.next_link``."""
        denied = self._guard(request, endpoint)
        if denied is not None:
            return denied
        account = self._account(account_id)
        if account is None:
            return self._error(403, f"No access to ad account {account_id}", "E3002")
        try:
            limit = max(1, min(1000, int(request.query.get("limit", "50"))))
            offset = int(request.query.get("cursor", "0"))
        except ValueError:
            return self._error(400, "Invalid limit or cursor", "E1001")
        entities = entities_of(account)
        payload: dict = {endpoint: [{"sub_request_status": "success", singular: e} for e in entities[offset : offset + limit]]}
        if offset + limit < len(entities):
            payload["paging"] = {
                "next_link": f"http://{request.host}/snapchat/v1/adaccounts/{account_id}/{endpoint}?cursor={offset + limit}&limit={limit}"
            }
        else:
            payload["paging"] = {}
        return self._ok(payload)

    def _owner(self, campaign_id: str):
        for account in self.world.accounts_for("snapchat"):
            for campaign in account.campaigns:
                if campaign.campaign_id == campaign_id:
                    return account, campaign
        return None, None

    def stats(self, request, campaign_id: str):
        denied = self._guard(request, "stats")
        if denied is not None:
            return denied
        account, campaign = self._owner(campaign_id)
        if account is None:
            return self._error(404, f"Campaign {campaign_id} not found", "E1002")
        q = request.query
        if q.get("granularity") != "DAY":
            return self._error(400, "granularity must be DAY here", "E1001")
        fields = [f for f in q.get("fields", "impressions,swipes,spend").split(",") if f]
        unknown = [f for f in fields if f not in STAT_FIELDS]
        if unknown:
            return self._error(400, f"Unknown field {unknown[0]}", "E1001")
        try:
            start = datetime.fromisoformat(q["start_time"])
            end = datetime.fromisoformat(q["end_time"])
        except (KeyError, ValueError):
            return self._error(400, "start_time and end_time must be ISO 8601 with an offset", "E1001")
        tz = ZoneInfo(account.timezone)
        if start.tzinfo is None or end.tzinfo is None:
            return self._error(400, "start_time and end_time need the account's UTC offset", "E1001")
        start_local, end_local = start.astimezone(tz), end.astimezone(tz)
        if (start_local.hour, start_local.minute, end_local.hour, end_local.minute) != (0, 0, 0, 0):
            return self._error(400, "For DAY granularity, start_time and end_time must be midnight in the ad account's time zone", "E1008")
        since, until = start_local.date(), end_local.date() - timedelta(days=1)
        if since > until or (until - since).days + 1 > MAX_DAYS:
            return self._error(400, f"The time range must cover 1 to {MAX_DAYS} days for DAY granularity", "E1004")
        swipe_up = q.get("swipe_up_attribution_window", "28_DAY")  # Snapchat's defaults
        view = q.get("view_attribution_window", "1_DAY")
        if swipe_up not in SWIPE_UP_WINDOWS:
            return self._error(400, f"swipe_up_attribution_window must be one of {', '.join(SWIPE_UP_WINDOWS)}", "E1001")
        if view not in VIEW_WINDOWS:
            return self._error(400, f"view_attribution_window must be one of {', '.join(VIEW_WINDOWS)}", "E1001")
        breakdown = q.get("breakdown")
        if breakdown not in (None, "adsquad"):
            return self._error(400, f"Unsupported breakdown {breakdown}", "E1001")

        def stats_of(metrics: dict) -> dict:
            return {name: round(metrics[STAT_FIELDS[name]] * 1_000_000) if name in MICRO_FIELDS else metrics[STAT_FIELDS[name]] for name in fields}

        def timeseries(metrics_of_day) -> list[dict]:
            series = []
            day = since
            while day <= until:
                metrics = metrics_of_day(day)
                if metrics is not None:
                    series.append(
                        {
                            "start_time": local_midnight(day, account.timezone),
                            "end_time": local_midnight(day + timedelta(days=1), account.timezone),
                            "stats": stats_of(metrics),
                        }
                    )
                day += timedelta(days=1)
            return series

        def stat(entity_id: str, entity_type: str, series: list[dict]) -> dict:
            return {
                "id": entity_id,
                "type": entity_type,
                "granularity": "DAY",
                "start_time": local_midnight(since, account.timezone),
                "end_time": local_midnight(until + timedelta(days=1), account.timezone),
                "finalized_data_end_time": local_midnight(self.today - timedelta(days=1), account.timezone),
                "swipe_up_attribution_window": swipe_up,
                "view_attribution_window": view,
                "timeseries": series,
            }

        campaign_stat = stat(campaign_id, "CAMPAIGN", timeseries(lambda day: self.world.truth("snapchat", account.account_id, campaign_id, day, self.today)))
        if breakdown == "adsquad":
            squads = []
            for index, group in enumerate(self.world.ad_groups("snapchat", account.account_id, campaign_id)):

                def squad_day(day, index=index):
                    parts = self.world.fine_truth("snapchat", account.account_id, campaign_id, day, self.today, "ad_group")
                    return parts[index] if parts else None

                squads.append(stat(group.ad_group_id, "AD_SQUAD", timeseries(squad_day)))
            campaign_stat["breakdown_stats"] = {"adsquad": squads}
        return self._ok({"timeseries_stats": [{"sub_request_status": "success", "timeseries_stat": campaign_stat}]})


API = SnapchatApi


# The demo world's accounts on this platform (fields: sandbox.world.demo_accounts).
DEMO_ACCOUNTS = (
    {
        "order": 8,
        "account_id": "8f2b7a4e-5c1d-4e3a-9b6f-2d8c0e1a7b3c",
        "workspace_id": "harbor_uk",
        "currency": "GBP",
        "timezone": "Europe/London",
        "name": "Harbor Tea - Snapchat",
        "campaigns": (
            {"campaign_id": "a1b2c3d4-0003-4000-8000-000000000003", "name": "Story Ads - Gift Sets", "daily_spend": 400.0, "cpm": 4.0, "ctr": 0.008, "cvr": 0.04, "aov": 35.0},
            {"campaign_id": "a1b2c3d4-0002-4000-8000-000000000002", "name": "Collection Ads - Matcha", "daily_spend": 400.0, "cpm": 5.0, "ctr": 0.01, "cvr": 0.045, "aov": 30.0},
        ),
    },
    {
        "order": 9,
        "account_id": "5c0e7d1a-9b2f-4a6e-8d3c-1f4b2a6e9c70",
        "workspace_id": "souq_sa",
        "currency": "SAR",
        "timezone": "Asia/Riyadh",
        "name": "Souq Riyadh - Snapchat",
        "campaigns": (
            {"campaign_id": "b7e1c2d3-0001-4000-8000-000000000101", "name": "Ramadan Story Ads", "daily_spend": 1400.0, "cpm": 15.0, "ctr": 0.008, "cvr": 0.04, "aov": 180.0},
            {"campaign_id": "b7e1c2d3-0002-4000-8000-000000000102", "name": "Collection Ads - Oud", "daily_spend": 1200.0, "cpm": 18.0, "ctr": 0.01, "cvr": 0.045, "aov": 220.0},
        ),
    },
)
