"""LinkedIn Marketing API: daily campaign analytics (``/rest/adAnalytics``) and the
account's campaigns and campaign groups (``adCampaigns`` / ``adCampaignGroups``
finders, cursor paged by ``pageToken`` / ``metadata.nextPageToken``).

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
from adapters.linkedin.parse import (
    classify,
    next_page_token,
    parse_campaign_groups_page,
    parse_campaigns_page,
    parse_creative_analytics_page,
    parse_creatives_page,
    parse_page,
)

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
MAX_PAGES = 1000
# Every status, so campaigns that ran in the past (archived, completed) still get their names.
ENTITY_STATUSES = ("ACTIVE", "PAUSED", "ARCHIVED", "COMPLETED", "CANCELED", "DRAFT", "PENDING_DELETION", "REMOVED")


def restli_date_range(since: date, until: date) -> str:
    return (
        f"(start:(year:{since.year},month:{since.month},day:{since.day}),"
        f"end:(year:{until.year},month:{until.month},day:{until.day}))"
    )


def restli_list(urns: list[str]) -> str:
    return "List(" + ",".join(quote(u, safe="") for u in urns) + ")"


def entity_search_query(page_size: int, page_token: str | None = None, finder: str = "search") -> str:
    """A cursor-paged finder: ``q=search`` over every status (Rest.li
    ``search=(status:(values:List(...)))``), or ``q=criteria`` (creatives: every status by default)."""
    parts = [f"q={finder}"]
    if finder == "search":
        parts.append(f"search=(status:(values:List({','.join(ENTITY_STATUSES)})))")
    parts.append(f"pageSize={page_size}")
    if page_token:
        parts.append(f"pageToken={quote(page_token, safe='')}")
    return "&".join(parts)


def analytics_query(account_id: str, since: date, until: date, fields: tuple[str, ...] = FIELDS, pivot: str = "CAMPAIGN") -> str:
    return "&".join(
        [
            "q=analytics",
            f"pivot={pivot}",
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
        entity_page_size: int = 100,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.entity_page_size = entity_page_size
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
        return self._analytics(account_id, since, until, "CAMPAIGN")

    def fetch_creative_analytics(self, account_id: str, since: date, until: date) -> Iterator[Page]:
        """Daily analytics per creative (``pivot=CREATIVE``): LinkedIn's grain under a campaign."""
        return self._analytics(account_id, since, until, "CREATIVE")

    def _analytics(self, account_id: str, since: date, until: date, pivot: str) -> Iterator[Page]:
        account_id = _digits(account_id)
        if since > until:
            raise PermanentError(f"linkedin adAnalytics for {account_id}: since {since} is after until {until}")
        start = since
        while start <= until:
            end = min(until, start + timedelta(days=self.max_days - 1))
            yield self._window(account_id, start, end, pivot)
            start = end + timedelta(days=1)

    def fetch_campaigns(self, account_id: str) -> Iterator[Page]:
        """Every campaign of the account (``adCampaigns``): name, status and ``campaignGroup`` URN."""
        return self._entities(account_id, "adCampaigns", parse_campaigns_page)

    def fetch_campaign_groups(self, account_id: str) -> Iterator[Page]:
        """Every campaign group of the account (``adCampaignGroups``): id and name."""
        return self._entities(account_id, "adCampaignGroups", parse_campaign_groups_page)

    def fetch_creatives(self, account_id: str) -> Iterator[Page]:
        """Every creative of the account (``creatives?q=criteria``): URN id, ``campaign`` URN, name."""
        return self._entities(account_id, "creatives", parse_creatives_page, "criteria")

    def _entities(self, account_id: str, resource: str, parse, finder: str = "search") -> Iterator[Page]:
        account_id = _digits(account_id)
        path = f"/rest/adAccounts/{account_id}/{resource}"
        token: str | None = None
        seen: set[str] = set()
        for number in range(1, MAX_PAGES + 1):
            query = entity_search_query(self.entity_page_size, token, finder)
            context = f"linkedin {resource} page {number} for account {account_id}"
            response = self._get(f"{self.base_url}{path}?{query}", context, account_id)
            try:
                records = parse(response.content)
                token = next_page_token(response.content)
            except BadResponseError as exc:
                raise exc.with_context(context, platform="linkedin", account_id=account_id) from None
            yield Page(body=response.content, records=records, request={"method": "GET", "url": f"{self.base_url}{path}?{query}", "path": path, "params": {"query": query}})
            if not token:
                return
            if token in seen:
                raise BadResponseError(f"{context}: metadata.nextPageToken repeats a page", platform="linkedin", account_id=account_id)
            seen.add(token)
        raise BadResponseError(f"linkedin {resource} for {account_id}: more than {MAX_PAGES} pages", platform="linkedin", account_id=account_id)

    def _get(self, url: str, context: str, account_id: str):
        return self.http.request(
            "GET",
            url,
            headers={"LinkedIn-Version": self.api_version, "X-Restli-Protocol-Version": "2.0.0"},
            auth=self.auth,
            classify=classify,
            context=context,
            account_id=account_id,
        )

    def _window(self, account_id: str, since: date, until: date, pivot: str) -> Page:
        query = analytics_query(account_id, since, until, pivot=pivot)
        url = f"{self.base_url}/rest/adAnalytics?{query}"
        context = f"linkedin adAnalytics ({pivot}) for account {account_id} ({since}..{until})"
        response = self._get(url, context, account_id)
        try:
            records = parse_creative_analytics_page(response.content) if pivot == "CREATIVE" else parse_page(response.content)
        except BadResponseError as exc:
            raise exc.with_context(context, platform="linkedin", account_id=account_id) from None
        return Page(body=response.content, records=records, request={"method": "GET", "url": url, "path": "/rest/adAnalytics", "params": {"query": query}})


def _digits(account_id: str) -> str:
    account_id = str(account_id).strip()
    if not account_id.isdigit():
        raise PermanentError(f"linkedin: sponsored account id must be digits, got {account_id!r}")
    return account_id
