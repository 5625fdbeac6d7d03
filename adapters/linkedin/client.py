"""LinkedIn Marketing API: daily campaign analytics (``/rest/adAnalytics``).

adAnalytics has no paging: each request covers one account and at most
``max_days`` days, so no answer grows past the response cap. Query values use
Rest.li 2.0 encoding, which ``requests`` would mangle, so the query string is
built here: structure (``( ) : ,``) stays literal and URNs inside ``List(...)``
are percent-encoded.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from urllib.parse import quote

from adapters.base import Page
from adapters.errors import BadResponseError, PermanentError
from adapters.http import HttpClient, OAuth2RefreshTokenAuth, StaticBearerAuth
from adapters.linkedin.parse import classify, parse_page

DEFAULT_BASE_URL = "https://api.linkedin.com"
DEFAULT_TOKEN_URL = "https://www.linkedin.com/oauth/v2/accessToken"
FIELDS = (
    "dateRange",
    "pivotValues",
    "impressions",
    "clicks",
    "costInLocalCurrency",
    "externalWebsiteConversions",
    "conversionValueInLocalCurrency",
)
MAX_DAYS = 30


def restli_date_range(since: date, until: date) -> str:
    return (
        f"(start:(year:{since.year},month:{since.month},day:{since.day}),"
        f"end:(year:{until.year},month:{until.month},day:{until.day}))"
    )


def restli_list(urns: list[str]) -> str:
    return "List(" + ",".join(quote(u, safe="") for u in urns) + ")"


def analytics_query(account_id: str, since: date, until: date, fields: tuple[str, ...] = FIELDS) -> str:
    return "&".join(
        [
            "q=analytics",
            "pivot=CAMPAIGN",
            "timeGranularity=DAILY",
            f"dateRange={restli_date_range(since, until)}",
            f"accounts={restli_list([f'urn:li:sponsoredAccount:{account_id}'])}",
            f"fields={','.join(fields)}",
        ]
    )


class LinkedInAnalyticsClient:
    """Daily campaign analytics for one sponsored account.

    With a refresh token (and client id/secret) an expired access token
    (401 ``EXPIRED_ACCESS_TOKEN``) is renewed once; with only an access token it
    raises ``ReauthRequiredError``: someone must reconnect the account.
    """

    platform = "linkedin"
    report = "ad_analytics"

    def __init__(
        self,
        base_url: str,
        access_token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        refresh_token: str | None = None,
        token_url: str | None = None,
        api_version: str = "202411",
        http: HttpClient | None = None,
        max_days: int = MAX_DAYS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.max_days = max_days
        self.http = http or HttpClient("linkedin", classify=classify)
        if not self.http.platform:
            self.http.platform = "linkedin"
        if refresh_token and client_id and client_secret:
            self.auth = OAuth2RefreshTokenAuth(self.http, token_url or DEFAULT_TOKEN_URL, client_id, client_secret, refresh_token)
        elif access_token:
            self.http.add_secret(access_token)
            self.auth = StaticBearerAuth(access_token, platform="linkedin")
        else:
            raise PermanentError("linkedin: an access token, or client id, secret and refresh token, are required")

    def fetch_ad_analytics(self, account_id: str, since: date, until: date) -> Iterator[Page]:
        account_id = str(account_id).strip()
        if not account_id.isdigit():
            raise PermanentError(f"linkedin: sponsored account id must be digits, got {account_id!r}")
        if since > until:
            raise PermanentError(f"linkedin adAnalytics for {account_id}: since {since} is after until {until}")
        start = since
        while start <= until:
            end = min(until, start + timedelta(days=self.max_days - 1))
            yield self._window(account_id, start, end)
            start = end + timedelta(days=1)

    def _window(self, account_id: str, since: date, until: date) -> Page:
        query = analytics_query(account_id, since, until)
        url = f"{self.base_url}/rest/adAnalytics?{query}"
        context = f"linkedin adAnalytics for account {account_id} ({since}..{until})"
        response = self.http.request(
            "GET",
            url,
            headers={"LinkedIn-Version": self.api_version, "X-Restli-Protocol-Version": "2.0.0"},
            auth=self.auth,
            classify=classify,
            context=context,
            account_id=account_id,
        )
        try:
            records = parse_page(response.content)
        except BadResponseError as exc:
            raise exc.with_context(context, platform="linkedin", account_id=account_id) from None
        return Page(body=response.content, records=records, request={"method": "GET", "url": url, "path": "/rest/adAnalytics", "params": {"query": query}})
