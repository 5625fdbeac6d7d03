"""Amazon Ads API (Reporting v3, asynchronous) over the world's Amazon Ads profiles.

- ``POST /amazon_ads/auth/o2/token``: Login with Amazon refresh-token grant (3600 s tokens).
- ``GET /amazon_ads/v2/profiles``: profiles with ``currencyCode`` and ``timezone``.
- ``POST /amazon_ads/reporting/reports`` (scope header = profile id): creates a
  ``spCampaigns`` report of at most 31 days, ``groupBy`` ``["campaign"]`` or
  ``["adGroup"]`` (then ``adGroupId``/``adGroupName`` columns are allowed and the
  rows are the world's ad groups, summing exactly to the campaigns); the same
  request while the first is still known answers HTTP 425 naming the existing
  report id in ``detail``.
- ``GET /amazon_ads/reporting/reports/{id}``: ``PENDING`` -> ``PROCESSING`` ->
  ``COMPLETED`` after ``polls_to_complete`` polls (with a pre-signed ``url``), or
  ``FAILED`` when scripted (``script("FAILED")`` fails the next report created).
- ``GET /amazon_ads/_download/{id}?X-Amz-...``: the gzip-compressed JSON rows. Like
  S3, it refuses a request that also carries an Authorization header.
"""

from __future__ import annotations

import gzip
import json
import re
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta

from sandbox.platforms.base import AdTraits, PlatformApi, RealisticProfile, bearer
from sandbox.wire import Response, Route

COLUMNS = {
    "date": lambda row: row["date"].isoformat(),
    "campaignId": lambda row: int(row["campaign_id"]),
    "campaignName": lambda row: row["campaign_name"],
    "impressions": lambda row: row["impressions"],
    "clicks": lambda row: row["clicks"],
    "cost": lambda row: row["spend"],
    "purchases7d": lambda row: row["conversions"],
    "sales7d": lambda row: row["conversion_value"],
    "purchases14d": lambda row: row["conversions"],
    "sales14d": lambda row: row["conversion_value"],
    "campaignBudgetCurrencyCode": lambda row: row["currency"],
}
AD_GROUP_COLUMNS = {
    "adGroupId": lambda row: int(row["ad_group_id"]),
    "adGroupName": lambda row: row["ad_group_name"],
}
# groupBy -> (the world's level, columns allowed)
GROUP_BY = {
    ("campaign",): ("campaign", COLUMNS),
    ("adGroup",): ("ad_group", {**COLUMNS, **AD_GROUP_COLUMNS}),
}
MAX_DAYS = 31
MARKETPLACE_ID = "ATVPDKIKX0DER"

TRAITS = AdTraits(id_digits=15, utm_sources=(("amazon", "cpc"),), search_terms=True, store_orders_per_conversion=0.55)


def advertiser_id(profile_id: str) -> str:
    """The profile's ``accountInfo.id``: the ``advertiser_id`` of its Marketing Stream records."""
    return f"A{str(profile_id)[-10:]}"
MEDIA_TYPE = "application/vnd.createasyncreportrequest.v3+json"


class AmazonAdsApi(PlatformApi):
    platform = "amazon_ads"
    polls_to_complete = 3
    token_ttl = 3600.0

    def __init__(self, server) -> None:
        super().__init__(server)
        self.reports: dict[str, dict] = {}
        self.downloads_with_auth_refused = 0

    @staticmethod
    def new_credentials() -> dict:
        return {
            "client_id": "amzn1.application-oa2-client." + secrets.token_hex(16),
            "client_secret": "amzn1.oa2-cs.v1." + secrets.token_hex(24),
            "refresh_token": "Atzr|" + secrets.token_urlsafe(48),
        }

    @classmethod
    def connection(cls, sandbox_url: str, creds: dict, **options) -> dict:
        """`report_poll_seconds` (option): how often the deferred extract polls its reports."""
        return cls.oauth_connection(sandbox_url, creds, "auth/o2/token", report_poll_seconds=options.get("report_poll_seconds", 2.0))

    def routes(self) -> list:
        return [
            Route("POST", re.compile(r"^/amazon_ads/auth/o2/token$"), "amazon_ads", "token", self.token),
            Route("GET", re.compile(r"^/amazon_ads/v2/profiles/?$"), "amazon_ads", "profiles", self.profiles),
            Route("POST", re.compile(r"^/amazon_ads/reporting/reports/?$"), "amazon_ads", "create_report", self.create_report),
            Route("GET", re.compile(r"^/amazon_ads/reporting/reports/([^/]+)$"), "amazon_ads", "get_report", self.get_report),
            Route("GET", re.compile(r"^/amazon_ads/_download/([^/]+)$"), "amazon_ads", "download", self.download),
        ]

    def _error(self, status: int, code: str, detail: str):
        return Response.json(status, {"code": code, "detail": detail})

    def token(self, request):
        self.count("token")
        if not self.refresh_form_ok(request.body):
            return Response.json(400, {"error": "invalid_grant", "error_description": "The request has an invalid grant parameter : refresh_token"})
        token = self.issue_token("Atza|", self.token_ttl)
        return Response.json(200, {"access_token": token, "refresh_token": self.credentials["refresh_token"], "token_type": "bearer", "expires_in": int(self.token_ttl)})

    def _auth(self, request):
        if not self.token_valid(bearer(request.headers)):
            return self._error(401, "UNAUTHORIZED", "Not authorized to access this advertiser: the access token expired or is invalid")
        if request.headers.get("amazon-advertising-api-clientid") != self.credentials["client_id"]:
            return self._error(401, "UNAUTHORIZED", "Amazon-Advertising-API-ClientId is missing or wrong")
        return None

    def _profile(self, request):
        """The request's profile (account) once its token, client id and scope pass; else (None, the refusal)."""
        denied = self._auth(request)
        if denied is not None:
            return None, denied
        profile_id = request.headers.get("amazon-advertising-api-scope", "")
        if not self.world.has_account("amazon_ads", profile_id):
            return None, self._error(401, "UNAUTHORIZED", f"Not authorized to access scope {profile_id or '(none)'}")
        return self.world.account("amazon_ads", profile_id), None

    def profiles(self, request):
        self.count("profiles")
        denied = self._auth(request)
        if denied is not None:
            return denied
        return Response.json(
            200,
            [
                {
                    "profileId": int(a.account_id),
                    "countryCode": "US" if a.currency == "USD" else "GB" if a.currency == "GBP" else "DE",
                    "currencyCode": a.currency,
                    "dailyBudget": 999999999.0,
                    "timezone": a.timezone,
                    "accountInfo": {"marketplaceStringId": MARKETPLACE_ID, "id": advertiser_id(a.account_id), "type": "seller", "name": a.name, "validPaymentMethod": True},
                }
                for a in self.world.accounts_for("amazon_ads")
            ],
        )

    def create_report(self, request):
        self.count("create_report")
        account, denied = self._profile(request)
        if denied is not None:
            return denied
        if request.headers.get("content-type", "").split(";")[0].strip() != MEDIA_TYPE:
            return self._error(415, "UNSUPPORTED_MEDIA_TYPE", f"Content-Type must be {MEDIA_TYPE}")
        scripted = self.take_scripted()
        if scripted == 429:
            return Response(429, b'{"code":"429","details":"Too Many Requests"}', {"Content-Type": "application/json"})
        try:
            body = json.loads(request.body)
            since, until = date.fromisoformat(body["startDate"]), date.fromisoformat(body["endDate"])
            config = body["configuration"]
            columns = config["columns"]
        except (ValueError, KeyError, TypeError) as exc:
            return self._error(400, "400", f"Invalid request body: {exc}")
        if (config.get("adProduct"), config.get("reportTypeId"), config.get("timeUnit"), config.get("format")) != (
            "SPONSORED_PRODUCTS",
            "spCampaigns",
            "DAILY",
            "GZIP_JSON",
        ):
            return self._error(400, "400", "configuration: SPONSORED_PRODUCTS spCampaigns DAILY GZIP_JSON is served here")
        group_by = tuple(config.get("groupBy") or ())
        if group_by not in GROUP_BY:
            return self._error(400, "400", "configuration.groupBy: [campaign] or [adGroup] is served here")
        unknown = [c for c in columns if c not in GROUP_BY[group_by][1]]
        if unknown:
            return self._error(400, "400", f"configuration.columns: unknown column {unknown[0]}")
        if since > until or (until - since).days + 1 > MAX_DAYS:
            return self._error(400, "400", f"The date range must be 1 to {MAX_DAYS} days")
        key = json.dumps([account.account_id, body["startDate"], body["endDate"], config], sort_keys=True)
        with self.lock:
            for report in self.reports.values():
                if report["key"] == key and not (report["fail"] and report["polls"] >= self.polls_to_complete):
                    return self._error(425, "425", f"The Request is a duplicate of : {report['reportId']}")
            report_id = str(uuid.uuid4())
            now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            self.reports[report_id] = {
                "key": key,
                "reportId": report_id,
                "profile_id": account.account_id,
                "name": body.get("name"),
                "startDate": body["startDate"],
                "endDate": body["endDate"],
                "configuration": config,
                "createdAt": now,
                "polls": 0,
                "fail": scripted == "FAILED",
                "signature": secrets.token_hex(32),
                "as_of": self.today,
            }
        return Response.json(200, self._describe(self.reports[report_id], "PENDING", request))

    def _describe(self, report: dict, status: str, request) -> dict:
        out = {
            "reportId": report["reportId"],
            "name": report["name"],
            "status": status,
            "startDate": report["startDate"],
            "endDate": report["endDate"],
            "configuration": report["configuration"],
            "createdAt": report["createdAt"],
            "updatedAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "url": None,
            "urlExpiresAt": None,
            "fileSize": None,
            "failureReason": None,
        }
        if status == "COMPLETED":
            out["url"] = (
                f"http://{request.host}/amazon_ads/_download/{report['reportId']}?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                f"&X-Amz-Expires=3600&X-Amz-Signature={report['signature']}"
            )
            out["urlExpiresAt"] = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            out["fileSize"] = len(self._file(report))
        if status == "FAILED":
            out["failureReason"] = "Report generation failed due to an internal error. Please retry."
        return out

    def get_report(self, request, report_id: str):
        self.count("get_report")
        account, denied = self._profile(request)
        if denied is not None:
            return denied
        with self.lock:
            report = self.reports.get(report_id)
            if report is None or report["profile_id"] != account.account_id:
                return self._error(404, "NOT_FOUND", f"Report {report_id} not found")
            report["polls"] += 1
            polls = report["polls"]
        if report["fail"]:
            status = "FAILED" if polls >= self.polls_to_complete else "PROCESSING"
        elif polls >= self.polls_to_complete:
            status = "COMPLETED"
        else:
            status = "PENDING" if polls == 1 else "PROCESSING"
        return Response.json(200, self._describe(report, status, request))

    def _file(self, report: dict) -> bytes:
        since, until = date.fromisoformat(report["startDate"]), date.fromisoformat(report["endDate"])
        columns = report["configuration"]["columns"]
        level, available = GROUP_BY[tuple(report["configuration"]["groupBy"])]
        rows = self.world.truth_rows("amazon_ads", report["profile_id"], since, until, as_of=report["as_of"], level=level)
        data = json.dumps([{c: available[c](row) for c in columns} for row in rows]).encode()
        return gzip.compress(data, mtime=0)

    def download(self, request, report_id: str):
        self.count("download")
        if "authorization" in request.headers:
            with self.lock:
                self.downloads_with_auth_refused += 1
            body = (
                b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidArgument</Code><Message>Only one auth '
                b"mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or "
                b"the Authorization header should be specified</Message><ArgumentName>Authorization</ArgumentName></Error>"
            )
            return Response(400, body, {"Content-Type": "application/xml"})
        report = self.reports.get(report_id)
        if report is None or not secrets.compare_digest(request.query.get("X-Amz-Signature", ""), report["signature"]):
            return Response(403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>", {"Content-Type": "application/xml"})
        return Response(200, self._file(report), {"Content-Type": "application/octet-stream"})


API = AmazonAdsApi


def realistic_levels(rng, name: str) -> tuple[str, float, float, float, float]:
    """Sponsored ads: low CTR, high CVR, CPC-priced; ROAS = 1 / ACOS."""
    weekday, ctr, cvr = "retail", rng.uniform(0.003, 0.005), rng.uniform(0.08, 0.15)
    cpm = rng.uniform(0.7, 1.6) * ctr * 1000.0
    return weekday, ctr, cpm, cvr, 1.0 / rng.uniform(0.2, 0.35)


def realistic_record(account, row: dict) -> dict:
    return {name: render(row) for name, render in COLUMNS.items()}


REALISTIC = RealisticProfile(
    rotation=60,
    account_id=("3", 16),
    campaign_id=("", 15),
    campaign_names=("SP - Auto - Bestsellers", "SP - Exact - Top Keywords", "SB - Brand Video", "SD - Retargeting"),
    levels=realistic_levels,
    record=realistic_record,
    alternate=0,
)


# The demo world's accounts on this platform (fields: sandbox.world.demo_accounts).
DEMO_ACCOUNTS = (
    {
        "order": 6,
        "account_id": "3100000000000001",
        "workspace_id": "northwind_us",
        "currency": "USD",
        "timezone": "America/Los_Angeles",
        "name": "Northwind Outdoor - Amazon Ads",
        "campaigns": (
            {"campaign_id": "310000000000101", "name": "SP - Auto - Tents", "daily_spend": 500.0, "cpm": 8.0, "ctr": 0.005, "cvr": 0.12, "aov": 55.0},
            {"campaign_id": "310000000000102", "name": "SP - Exact - Sleeping Bags", "daily_spend": 450.0, "cpm": 11.0, "ctr": 0.006, "cvr": 0.14, "aov": 65.0},
        ),
    },
)
