"""Amazon Ads API Reporting v3: Sponsored Products campaign reports, asynchronously.

The steps are separate so a scheduler can wait between them without holding a
worker: ``request_reports`` (create, at most 31 days each; a 425 duplicate reuses
the existing report), ``report_status`` (poll), ``download`` (the pre-signed URL,
fetched without any auth header). ``fetch_campaign_report`` chains them with
sleeps, for running by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta

from adapters.amazon_ads.parse import DuplicateReportError, classify, decompress, parse_ad_group_page, parse_page
from adapters.base import Page
from adapters.errors import BadResponseError, PermanentError, TransientError
from adapters.http import HttpClient, OAuth2RefreshTokenAuth, strip_query_params

DEFAULT_BASE_URL = "https://advertising-api.amazon.com"
DEFAULT_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
COLUMNS = (
    "date",
    "campaignId",
    "campaignName",
    "impressions",
    "clicks",
    "cost",
    "purchases7d",
    "sales7d",
    "campaignBudgetCurrencyCode",
)
# spCampaigns grouped by ad group: the same metrics per ad group, with its id and name.
AD_GROUP_COLUMNS = ("adGroupId", "adGroupName", *COLUMNS)
# group -> (groupBy, columns, parser)
GROUPS = {
    "campaign": (["campaign"], COLUMNS, parse_page),
    "adGroup": (["adGroup"], AD_GROUP_COLUMNS, parse_ad_group_page),
}
MAX_DAYS = 31
MEDIA_TYPE = "application/vnd.createasyncreportrequest.v3+json"
DONE = "COMPLETED"
# Seconds between two status checks of a report, unless the Connection's extra.report_poll_seconds says otherwise.
REPORT_POLL_SECONDS = 60.0
FAILED = "FAILED"


def report_windows(since: date, until: date, max_days: int = MAX_DAYS) -> list[tuple[date, date]]:
    windows = []
    start = since
    while start <= until:
        end = min(until, start + timedelta(days=max_days - 1))
        windows.append((start, end))
        start = end + timedelta(days=1)
    return windows


class AmazonAdsReportClient:
    platform = "amazon_ads"
    report = "sp_campaigns"

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        token_url: str | None = None,
        http: HttpClient | None = None,
        download_http: HttpClient | None = None,
        poll_seconds: float = REPORT_POLL_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.poll_seconds = poll_seconds  # between two status checks of a blocking fetch (``fetch_report``)
        self.client_id = client_id
        self.http = http or HttpClient("amazon_ads", classify=classify)
        if not self.http.platform:
            self.http.platform = "amazon_ads"
        self.auth = OAuth2RefreshTokenAuth(self.http, token_url or DEFAULT_TOKEN_URL, client_id, client_secret, refresh_token)
        # Pre-signed URLs carry their own signature: a separate session, never an auth header.
        self.download_http = download_http or HttpClient("amazon_ads")

    def _headers(self, profile_id: str | None = None, content_type: str | None = None) -> dict[str, str]:
        headers = {"Amazon-Advertising-API-ClientId": self.client_id}
        if profile_id is not None:
            headers["Amazon-Advertising-API-Scope"] = str(profile_id)
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def profiles(self) -> list[dict]:
        response = self.http.request(
            "GET",
            f"{self.base_url}/v2/profiles",
            headers=self._headers(),
            auth=self.auth,
            classify=classify,
            context="amazon_ads profiles",
        )
        try:
            profiles = response.json()
        except ValueError:
            raise BadResponseError("amazon_ads profiles: body is not JSON") from None
        if not isinstance(profiles, list):
            raise BadResponseError("amazon_ads profiles: expected a list")
        return profiles

    def profile(self, profile_id: str) -> dict:
        """The profile (``currencyCode``, ``timezone``, ``countryCode``); PermanentError if not accessible."""
        for profile in self.profiles():
            if str(profile.get("profileId")) == str(profile_id):
                return profile
        raise PermanentError(
            f"amazon_ads: profile {profile_id} is not accessible with these credentials", account_id=str(profile_id)
        )

    def create_report(self, profile_id: str, since: date, until: date, group: str = "campaign") -> str:
        """A new report's id, or the existing one's when Amazon answers 425 (duplicate).

        ``group``: ``campaign`` (campaign x day) or ``adGroup`` (ad group x day).
        """
        group_by, columns, _ = GROUPS[group]
        body = {
            "name": f"ads-elt spCampaigns by {group} {profile_id} {since}..{until}",
            "startDate": since.isoformat(),
            "endDate": until.isoformat(),
            "configuration": {
                "adProduct": "SPONSORED_PRODUCTS",
                "groupBy": group_by,
                "columns": list(columns),
                "reportTypeId": "spCampaigns",
                "timeUnit": "DAILY",
                "format": "GZIP_JSON",
            },
        }
        context = f"amazon_ads create {group} report for profile {profile_id} ({since}..{until})"
        try:
            response = self.http.request(
                "POST",
                f"{self.base_url}/reporting/reports",
                json=body,
                headers=self._headers(profile_id, MEDIA_TYPE),
                auth=self.auth,
                classify=classify,
                context=context,
                account_id=str(profile_id),
            )
        except DuplicateReportError as exc:
            if exc.report_id:
                return exc.report_id
            raise
        try:
            return str(response.json()["reportId"])
        except (ValueError, KeyError, TypeError):
            raise BadResponseError(f"{context}: no reportId in the answer") from None

    def request_reports(self, profile_id: str, since: date, until: date, group: str = "campaign") -> list[dict]:
        """One report per window of at most 31 days: ``[{report_id, start, end, group}]``."""
        if since > until:
            raise PermanentError(f"amazon_ads reports for profile {profile_id}: since {since} is after until {until}")
        return [
            {
                "report_id": self.create_report(profile_id, start, end, group),
                "start": start.isoformat(),
                "end": end.isoformat(),
                "group": group,
            }
            for start, end in report_windows(since, until)
        ]

    def report_status(self, profile_id: str, report_id: str) -> dict:
        response = self.http.request(
            "GET",
            f"{self.base_url}/reporting/reports/{report_id}",
            headers=self._headers(profile_id),
            auth=self.auth,
            classify=classify,
            context=f"amazon_ads report {report_id} status",
            account_id=str(profile_id),
        )
        try:
            status = response.json()
            status["status"]
        except (ValueError, KeyError, TypeError):
            raise BadResponseError(f"amazon_ads report {report_id}: no status in the answer") from None
        return status

    def download(self, status: dict, group: str = "campaign") -> Page:
        """The completed report's rows, from its pre-signed URL (no Authorization header)."""
        url = status.get("url")
        if status.get("status") != DONE or not url:
            raise PermanentError(f"amazon_ads report {status.get('reportId')} is {status.get('status')}, not downloadable")
        response = self.download_http.request("GET", url, context=f"amazon_ads report {status.get('reportId')} download")
        body = decompress(response.content)
        records = GROUPS[group][2](body)
        return Page(
            body=body,
            records=records,
            request={
                "method": "GET",
                "url": strip_query_params(url, ("X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token")),
                "path": "report",
                "params": {"reportId": status.get("reportId")},
            },
        )

    def fetch_campaign_report(self, profile_id: str, since: date, until: date, **kwargs) -> Iterator[Page]:
        """Campaign x day reports, blocking (for the command line); see ``fetch_report``."""
        return self.fetch_report(profile_id, since, until, "campaign", **kwargs)

    def fetch_ad_group_report(self, profile_id: str, since: date, until: date, **kwargs) -> Iterator[Page]:
        """Ad group x day reports (``groupBy: ["adGroup"]``), blocking; see ``fetch_report``."""
        return self.fetch_report(profile_id, since, until, "adGroup", **kwargs)

    def fetch_report(
        self,
        profile_id: str,
        since: date,
        until: date,
        group: str = "campaign",
        poll_seconds: float | None = None,
        max_wait: float = 3 * 3600.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Iterator[Page]:
        """Create, wait for and download every window's report (blocking: for the command line); ``poll_seconds``
        between two status checks (default the client's)."""
        poll_seconds = self.poll_seconds if poll_seconds is None else poll_seconds
        for report in self.request_reports(profile_id, since, until, group):
            waited = 0.0
            while True:
                status = self.report_status(profile_id, report["report_id"])
                if status["status"] == DONE:
                    break
                if status["status"] == FAILED:
                    raise TransientError(
                        f"amazon_ads report {report['report_id']} failed: {status.get('failureReason')}",
                        account_id=str(profile_id),
                    )
                if waited >= max_wait:
                    raise TransientError(
                        f"amazon_ads report {report['report_id']} not ready after {waited:.0f}s", account_id=str(profile_id)
                    )
                sleep(poll_seconds)
                waited += poll_seconds
            yield self.download(status, group)
