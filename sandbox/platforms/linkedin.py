"""LinkedIn Marketing API ``adAnalytics`` over the world's LinkedIn accounts.

Entity lists, both finders with cursor paging (``pageSize``, ``pageToken``;
``metadata.nextPageToken`` until the last page) and ``id`` as a number:

- ``GET /linkedin/rest/adAccounts/{id}/adCampaigns?q=search&search=(status:(values:List(ACTIVE,...)))``:
  campaigns with ``name``, ``status``, ``account`` and ``campaignGroup`` URNs.
- ``GET /linkedin/rest/adAccounts/{id}/adCampaignGroups?q=search&search=(...)``: the groups.
- ``GET /linkedin/rest/adAccounts/{id}/creatives?q=criteria``: the creatives, ``id`` a
  ``urn:li:sponsoredCreative:`` URN with its ``campaign`` URN and ``name``.

adAnalytics also answers ``pivot=CREATIVE`` (pivotValues a creative URN): LinkedIn's
grain under a campaign is the creative, which is the world's ad group here; the
creatives of a campaign-day sum exactly to it.

The world has no campaign groups: a campaign's group is the part of its name
before `` - `` ("B2B - Hotel Procurement" is in group "B2B"), with a stable id
(``campaign_group_of``).

``GET /linkedin/rest/adAnalytics?q=analytics&pivot=CAMPAIGN&timeGranularity=DAILY
&dateRange=(start:(year:Y,month:M,day:D),end:(...))&accounts=List(urn%3Ali%3AsponsoredAccount%3AN)&fields=...``
with ``LinkedIn-Version`` and ``X-Restli-Protocol-Version: 2.0.0``. The Rest.li
structure (parentheses, colons, commas) must arrive unencoded and the URNs inside
``List(...)`` encoded, as the real API wants; anything else is a 400.

Cost and conversion value are long-precision strings, counts are integers, there
is no paging (``max_elements`` caps an answer: ask for less), and an empty
``elements`` means nothing ran. ``expire_tokens()`` makes the current access token
answer 401 ``EXPIRED_ACCESS_TOKEN``; ``POST /linkedin/oauth/v2/accessToken``
(refresh-token grant) issues a new one. ``script(status, ...)`` answers the next
requests with 429 (throttled) or 500.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date
from urllib.parse import unquote

from sandbox.platforms.base import AdTraits, PlatformApi, bearer
from sandbox.wire import Response, Route

FIELDS = {
    "dateRange",
    "pivotValues",
    "impressions",
    "clicks",
    "costInLocalCurrency",
    "externalWebsiteConversions",
    "conversionValueInLocalCurrency",
}
_DATE_RANGE = re.compile(
    r"^\(start:\(year:(\d{4}),month:(\d{1,2}),day:(\d{1,2})\),end:\(year:(\d{4}),month:(\d{1,2}),day:(\d{1,2})\)\)$"
)
_SEARCH = re.compile(r"^\(status:\(values:List\([A-Z_]+(?:,[A-Z_]+)*\)\)\)$")
# pivot -> (the world's level, pivot URN prefix, the row's id key)
PIVOTS = {
    "CAMPAIGN": ("campaign", "urn:li:sponsoredCampaign:", "campaign_id"),
    "CREATIVE": ("ad_group", "urn:li:sponsoredCreative:", "ad_group_id"),
}
ENTITY_STATUSES = ("ACTIVE", "PAUSED", "ARCHIVED", "COMPLETED", "CANCELED", "DRAFT", "PENDING_DELETION", "REMOVED")
_ACCOUNTS = re.compile(r"^List\(((?:urn%3Ali%3AsponsoredAccount%3A\d+)(?:,urn%3Ali%3AsponsoredAccount%3A\d+)*)\)$")

TRAITS = AdTraits(id_digits=9, utm_sources=(("linkedin", "paid_social"), ("LinkedIn", "cpc")), store_orders_per_conversion=0.4)


def long_precision(value: float) -> str:
    """A money amount the way LinkedIn prints it: the binary double's long expansion."""
    return f"{value:.19f}"


def campaign_group_of(account_id: str, campaign_name: str) -> tuple[int, str]:
    """The sandbox's campaign group of a campaign: (numeric id, name)."""
    name = campaign_name.split(" - ", 1)[0].strip() if " - " in campaign_name else "Default Campaign Group"
    digest = hashlib.sha256(f"{account_id}|{name}".encode()).digest()
    return 600_000_000 + int.from_bytes(digest[:4], "big") % 100_000_000, name


def _raw_params(raw_query: str) -> dict[str, str]:
    params = {}
    for part in raw_query.split("&"):
        if part:
            name, _, value = part.partition("=")
            params[name] = value
    return params


class LinkedInApi(PlatformApi):
    platform = "linkedin"
    max_elements = 15000

    def __init__(self, server) -> None:
        super().__init__(server)
        self.static_tokens: set[str] = set()

    @staticmethod
    def new_credentials() -> dict:
        return {
            "client_id": secrets.token_hex(7),
            "client_secret": secrets.token_urlsafe(16),
            "refresh_token": "AQX" + secrets.token_urlsafe(40),
        }

    @classmethod
    def connection(cls, sandbox_url: str, creds: dict, **options) -> dict:
        return cls.oauth_connection(sandbox_url, creds, "oauth/v2/accessToken", api_version="202411")

    def fault_body(self, kind: str, fault, ctx):
        if kind == "auth_expired":
            return Response.json(
                401, {"status": 401, "serviceErrorCode": 65602, "code": "EXPIRED_ACCESS_TOKEN", "message": "The token used in the request has expired"}
            )
        if kind == "auth_revoked":
            return Response.json(
                401, {"status": 401, "serviceErrorCode": 65601, "code": "REVOKED_ACCESS_TOKEN", "message": "The token used in the request has been revoked by the user"}
            )
        if kind == "rate_limited":
            return Response.json(429, {"status": 429, "serviceErrorCode": 101, "code": "TOO_MANY_REQUESTS", "message": "Resource level throttle limit reached"})
        return None

    def routes(self) -> list:
        return [
            Route("POST", re.compile(r"^/linkedin/oauth/v2/accessToken$"), "linkedin", "token", self.token),
            Route("GET", re.compile(r"^/linkedin/rest/adAnalytics$"), "linkedin", "adAnalytics", self.ad_analytics),
            Route("GET", re.compile(r"^/linkedin/rest/adAccounts/(\d+)/adCampaigns$"), "linkedin", "adCampaigns", self.ad_campaigns),
            Route("GET", re.compile(r"^/linkedin/rest/adAccounts/(\d+)/adCampaignGroups$"), "linkedin", "adCampaignGroups", self.ad_campaign_groups),
            Route("GET", re.compile(r"^/linkedin/rest/adAccounts/(\d+)/creatives$"), "linkedin", "creatives", self.creatives),
        ]

    def _error(self, status: int, message: str, code: str | None = None, service_code: int | None = None):
        payload: dict = {"status": status, "message": message}
        if service_code is not None:
            payload["serviceErrorCode"] = service_code
        if code is not None:
            payload["code"] = code
        return Response.json(status, payload, {"x-restli-protocol-version": "2.0.0"})

    def token(self, request):
        self.count("token")
        if not self.refresh_form_ok(request.body):
            return Response.json(400, {"error": "invalid_request", "error_description": "The provided refresh token is invalid or expired"})
        token = self.issue_token("AQV", 5_184_000)
        return Response.json(200, {"access_token": token, "expires_in": 5_184_000, "refresh_token": self.credentials["refresh_token"], "refresh_token_expires_in": 31_536_000})

    def issue_static_token(self) -> str:
        """A long-lived token (no refresh token), as from the 3-legged flow."""
        return self.issue_token("AQV", 5_184_000)

    def _guard(self, request, endpoint: str):
        """Token, version headers and scripted answers; None when the request may proceed."""
        self.count(endpoint)
        if not self.token_valid(bearer(request.headers)):
            return self._error(401, "The token used in the request has expired", "EXPIRED_ACCESS_TOKEN", 65602)
        if request.headers.get("x-restli-protocol-version") != "2.0.0" or not re.fullmatch(r"\d{6}", request.headers.get("linkedin-version", "")):
            return self._error(400, "Headers LinkedIn-Version (YYYYMM) and X-Restli-Protocol-Version: 2.0.0 are required", "VERSION_MISSING")
        scripted = self.take_scripted()
        if scripted is not None:
            return self._error(int(scripted), "Resource level throttle limit for calls to this resource is reached." if scripted == 429 else "Internal Server Error", "TOO_MANY_REQUESTS" if scripted == 429 else None)
        return None

    def _entity_page(self, request, account_id: str, endpoint: str, entities_of, finder: str = "search", status_key: str = "status"):
        """One page of a finder under an ad account (cursor paging)."""
        denied = self._guard(request, endpoint)
        if denied is not None:
            return denied
        raw = _raw_params(request.raw_query)
        if raw.get("q") != finder:
            return self._error(400, f"q={finder} is the finder served here", "ILLEGAL_ARGUMENT")
        search = raw.get("search")
        if search is not None and not _SEARCH.match(search):
            return self._error(400, "Invalid Rest.li value for search: expected (status:(values:List(ACTIVE,...))) unencoded", "ILLEGAL_ARGUMENT")
        if not self.world.has_account("linkedin", account_id):
            return self._error(403, f"Not enough permissions to access: {endpoint} for urn:li:sponsoredAccount:{account_id}", "ACCESS_DENIED", 100)
        try:
            page_size = max(1, min(1000, int(raw.get("pageSize", "100"))))
            offset = int(unquote(raw.get("pageToken", "") or "0").removeprefix("cursor-") or "0")
        except ValueError:
            return self._error(400, "Invalid pageSize or pageToken", "ILLEGAL_ARGUMENT")
        statuses = set(re.findall(r"[A-Z_]+", search.split("List", 1)[1])) if search else set(ENTITY_STATUSES)
        entities = [e for e in entities_of(self.world.account("linkedin", account_id)) if e[status_key] in statuses]
        payload: dict = {"elements": entities[offset : offset + page_size], "metadata": {}}
        if offset + page_size < len(entities):
            payload["metadata"]["nextPageToken"] = f"cursor-{offset + page_size}"
        return Response.json(200, payload, {"x-restli-protocol-version": "2.0.0", "x-li-uuid": secrets.token_hex(8)})

    def ad_campaigns(self, request, account_id: str):
        def campaigns(account) -> list[dict]:
            return [
                {
                    "id": int(c.campaign_id),
                    "name": c.name,
                    "account": f"urn:li:sponsoredAccount:{account.account_id}",
                    "campaignGroup": f"urn:li:sponsoredCampaignGroup:{campaign_group_of(account.account_id, c.name)[0]}",
                    "status": "ACTIVE",
                    "type": "SPONSORED_UPDATES",
                    "costType": "CPM",
                    "locale": {"country": "US", "language": "en"},
                }
                for c in account.campaigns
            ]

        return self._entity_page(request, account_id, "adCampaigns", campaigns)

    def ad_campaign_groups(self, request, account_id: str):
        def groups(account) -> list[dict]:
            found: dict[int, str] = dict(campaign_group_of(account.account_id, c.name) for c in account.campaigns)
            return [
                {"id": group_id, "name": name, "account": f"urn:li:sponsoredAccount:{account.account_id}", "status": "ACTIVE"}
                for group_id, name in sorted(found.items())
            ]

        return self._entity_page(request, account_id, "adCampaignGroups", groups)

    def creatives(self, request, account_id: str):
        def creatives(account) -> list[dict]:
            return [
                {
                    "id": f"urn:li:sponsoredCreative:{g.ad_group_id}",
                    "name": g.name,
                    "campaign": f"urn:li:sponsoredCampaign:{c.campaign_id}",
                    "account": f"urn:li:sponsoredAccount:{account.account_id}",
                    "intendedStatus": "ACTIVE",
                    "isServing": True,
                }
                for c in account.campaigns
                for g in self.world.ad_groups("linkedin", account.account_id, c.campaign_id)
            ]

        return self._entity_page(request, account_id, "creatives", creatives, finder="criteria", status_key="intendedStatus")

    def ad_analytics(self, request):
        denied = self._guard(request, "adAnalytics")
        if denied is not None:
            return denied
        raw = _raw_params(request.raw_query)
        if (raw.get("q"), raw.get("timeGranularity")) != ("analytics", "DAILY") or raw.get("pivot") not in PIVOTS:
            return self._error(400, "q=analytics, pivot=CAMPAIGN or CREATIVE and timeGranularity=DAILY are served here", "ILLEGAL_ARGUMENT")
        level, urn_prefix, id_key = PIVOTS[raw["pivot"]]
        date_range = _DATE_RANGE.match(raw.get("dateRange", ""))
        if not date_range:
            return self._error(400, "Invalid Rest.li value for dateRange: expected (start:(year:..,month:..,day:..),end:(...)) unencoded", "ILLEGAL_ARGUMENT")
        accounts = _ACCOUNTS.match(raw.get("accounts", ""))
        if not accounts:
            return self._error(400, "Invalid Rest.li value for accounts: expected List(urn%3Ali%3AsponsoredAccount%3A<id>) with encoded URNs", "ILLEGAL_ARGUMENT")
        fields = unquote(raw.get("fields", "")).split(",")
        unknown = [f for f in fields if f not in FIELDS]
        if unknown or not fields:
            return self._error(400, f"Unknown field {unknown[0] if unknown else ''}", "ILLEGAL_ARGUMENT")
        y1, m1, d1, y2, m2, d2 = (int(g) for g in date_range.groups())
        since, until = date(y1, m1, d1), date(y2, m2, d2)
        elements = []
        for urn in unquote(accounts.group(1)).split(","):
            account_id = urn.rsplit(":", 1)[1]
            if not self.world.has_account("linkedin", account_id):
                return self._error(403, f"Not enough permissions to access: adAnalytics for {urn}", "ACCESS_DENIED", 100)
            account = self.world.account("linkedin", account_id)
            for row in self.world.truth_rows("linkedin", account.account_id, since, until, as_of=self.today, level=level):
                day = {"year": row["date"].year, "month": row["date"].month, "day": row["date"].day}
                available = {
                    "dateRange": {"start": day, "end": day},
                    "pivotValues": [f"{urn_prefix}{row[id_key]}"],
                    "impressions": row["impressions"],
                    "clicks": row["clicks"],
                    "costInLocalCurrency": long_precision(row["spend"]),
                    "externalWebsiteConversions": row["conversions"],
                    "conversionValueInLocalCurrency": long_precision(row["conversion_value"]),
                }
                elements.append({f: available[f] for f in fields})
        if len(elements) > self.max_elements:
            return self._error(400, f"Request would return more than {self.max_elements} elements; narrow the date range", "ILLEGAL_ARGUMENT")
        return Response.json(200, {"elements": elements}, {"x-restli-protocol-version": "2.0.0", "x-li-uuid": secrets.token_hex(8)})



API = LinkedInApi


# The demo world's accounts on this platform (fields: sandbox.world.demo_accounts).
DEMO_ACCOUNTS = (
    {
        "order": 7,
        "account_id": "508000001",
        "workspace_id": "lumen_eu",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "name": "Lumen Home - LinkedIn",
        "campaigns": (
            {"campaign_id": "431685124", "name": "B2B - Interior Designers", "daily_spend": 700.0, "cpm": 20.0, "ctr": 0.01, "cvr": 0.08, "aov": 240.0},
            {"campaign_id": "431685125", "name": "B2B - Hotel Procurement", "daily_spend": 600.0, "cpm": 18.0, "ctr": 0.012, "cvr": 0.07, "aov": 300.0},
        ),
    },
)
