"""Snapchat Marketing API: daily campaign stats for one ad account."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.base import Page
from adapters.errors import BadResponseError, PermanentError
from adapters.http import HttpClient, OAuth2RefreshTokenAuth, strip_query_params
from adapters.snapchat.parse import (
    check_attribution_windows,
    classify,
    is_success,
    load_json,
    next_page_link,
    parse_ad_squad_stats_page,
    parse_ad_squads_page,
    parse_campaigns_page,
    parse_page,
)

DEFAULT_BASE_URL = "https://adsapi.snapchat.com"
DEFAULT_TOKEN_URL = "https://accounts.snapchat.com/login/oauth2/access_token"
FIELDS = (
    "impressions",
    "swipes",
    "spend",
    "conversion_purchases",
    "conversion_purchases_value",
    "video_views",
    "quartile_1",
    "quartile_2",
    "quartile_3",
    "view_completion",
)
# The attribution the conversions are reported under, asked for in every stats request (the product's
# choice, where Snapchat's default is a 28-day swipe): a conversion up to 7 days after a swipe up, or 1 day
# after a view. A response that says it used other windows is refused.
SWIPE_UP_ATTRIBUTION_WINDOW = "7_DAY"
VIEW_ATTRIBUTION_WINDOW = "1_DAY"
MAX_DAYS = 31
MAX_PAGES = 1000


class SnapchatStatsClient:
    """Campaign list (paged by ``paging.next_link``), then daily stats per campaign.

    Access tokens last 30 minutes: they are refreshed shortly before expiry, and on a
    401 once per request. Times are sent as local midnights with the account's
    UTC offset (from the ad account's ``timezone``), in windows of at most 31 days.
    """

    platform = "snapchat"
    report = "campaign_stats"

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        token_url: str | None = None,
        http: HttpClient | None = None,
        campaign_page_size: int = 100,
        max_days: int = MAX_DAYS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.campaign_page_size = campaign_page_size
        self.max_days = max_days
        self.http = http or HttpClient("snapchat", classify=classify)
        if not self.http.platform:
            self.http.platform = "snapchat"
        self.auth = OAuth2RefreshTokenAuth(self.http, token_url or DEFAULT_TOKEN_URL, client_id, client_secret, refresh_token)
        # One extract reads an account's details and campaign list for each of its reports (the
        # campaign list itself, campaign stats, ad squad stats): the client asks the API once.
        # A client lives for one extract (``ads_elt.registry.connections.client_for``), so nothing goes stale.
        self._accounts: dict[str, dict] = {}
        self._campaign_pages: dict[str, list[Page]] = {}

    def _get(self, url: str, params: dict | None, context: str, account_id: str):
        return self.http.request("GET", url, params=params, auth=self.auth, classify=classify, context=context, account_id=account_id)

    def ad_account(self, account_id: str) -> dict:
        """The ad account (its ``timezone`` sets the days), asked once per client."""
        if account_id not in self._accounts:
            self._accounts[account_id] = self._fetch_ad_account(account_id)
        return self._accounts[account_id]

    def _fetch_ad_account(self, account_id: str) -> dict:
        context = f"snapchat ad account {account_id}"
        body = self._get(f"{self.base_url}/v1/adaccounts/{account_id}", None, context, account_id).content
        try:
            item = load_json(body)["adaccounts"][0]
            if not is_success(item.get("sub_request_status")):
                raise BadResponseError(f"sub_request_status {item.get('sub_request_status')!r}")
            return item["adaccount"]
        except (KeyError, IndexError, TypeError) as exc:
            raise BadResponseError(f"{context}: unexpected answer ({type(exc).__name__})", account_id=account_id) from None

    def campaigns(self, account_id: str) -> list[dict]:
        """Every campaign of the account, following ``paging.next_link``."""
        return [campaign for page in self.fetch_campaigns(account_id) for campaign in page.records]

    def fetch_campaigns(self, account_id: str) -> Iterator[Page]:
        """The campaign list pages (``paging.next_link``); records are the ``campaign`` entities. Asked once per client."""
        if account_id not in self._campaign_pages:
            self._campaign_pages[account_id] = list(self._entity_pages(account_id, "campaigns", parse_campaigns_page))
        return iter(self._campaign_pages[account_id])

    def fetch_ad_squads(self, account_id: str) -> Iterator[Page]:
        """The ad squad list pages of the account; records are the ``adsquad`` entities (with ``campaign_id``)."""
        return self._entity_pages(account_id, "adsquads", parse_ad_squads_page)

    def _entity_pages(self, account_id: str, endpoint: str, parse) -> Iterator[Page]:
        url: str = f"{self.base_url}/v1/adaccounts/{account_id}/{endpoint}"
        params: dict | None = {"limit": str(self.campaign_page_size)}
        seen: set[str] = set()
        for number in range(1, MAX_PAGES + 1):
            context = f"snapchat {endpoint} page {number} for ad account {account_id}"
            response = self._get(url, params, context, account_id)
            try:
                records = parse(response.content)
                next_link = next_page_link(response.content)
            except BadResponseError as exc:
                raise exc.with_context(context, platform="snapchat", account_id=account_id) from None
            yield Page(body=response.content, records=records, request={"method": "GET", "url": url, "path": url[len(self.base_url) :], "params": params or {}})
            if not next_link:
                return
            next_link = strip_query_params(next_link)
            if urlsplit(next_link).netloc != urlsplit(self.base_url).netloc or next_link in seen:
                raise BadResponseError(f"{context}: paging.next_link is not a new page on the API host", account_id=account_id)
            seen.add(next_link)
            url, params = next_link, None
        raise BadResponseError(f"snapchat {endpoint} for {account_id}: more than {MAX_PAGES} pages", account_id=account_id)

    def fetch_campaign_stats(self, account_id: str, since: date, until: date) -> Iterator[Page]:
        return self._stats_pages(account_id, since, until, None)

    def fetch_ad_squad_stats(self, account_id: str, since: date, until: date) -> Iterator[Page]:
        """Daily stats per ad squad: each campaign's stats with ``breakdown=adsquad``."""
        return self._stats_pages(account_id, since, until, "adsquad")

    def _stats_pages(self, account_id: str, since: date, until: date, breakdown: str | None) -> Iterator[Page]:
        if since > until:
            raise PermanentError(f"snapchat stats for {account_id}: since {since} is after until {until}")
        account = self.ad_account(account_id)
        try:
            tz = ZoneInfo(account.get("timezone") or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            raise BadResponseError(f"snapchat ad account {account_id}: unknown timezone {account.get('timezone')!r}") from None
        for campaign in self.campaigns(account_id):
            start = since
            while start <= until:
                end = min(until, start + timedelta(days=self.max_days - 1))
                yield self._stats(account_id, campaign["id"], start, end, tz, breakdown)
                start = end + timedelta(days=1)

    def _stats(self, account_id: str, campaign_id: str, since: date, until: date, tz: ZoneInfo, breakdown: str | None = None) -> Page:
        url = f"{self.base_url}/v1/campaigns/{campaign_id}/stats"
        params = {
            "granularity": "DAY",
            "fields": ",".join(FIELDS),
            "start_time": _midnight(since, tz),
            "end_time": _midnight(until + timedelta(days=1), tz),
            "swipe_up_attribution_window": SWIPE_UP_ATTRIBUTION_WINDOW,
            "view_attribution_window": VIEW_ATTRIBUTION_WINDOW,
        }
        if breakdown:
            params["breakdown"] = breakdown
        context = f"snapchat {breakdown or 'campaign'} stats for campaign {campaign_id} of {account_id} ({since}..{until})"
        response = self._get(url, params, context, account_id)
        try:
            records = parse_ad_squad_stats_page(response.content) if breakdown else parse_page(response.content)
            check_attribution_windows(response.content, SWIPE_UP_ATTRIBUTION_WINDOW, VIEW_ATTRIBUTION_WINDOW)
        except BadResponseError as exc:
            raise exc.with_context(context, platform="snapchat", account_id=account_id) from None
        return Page(body=response.content, records=records, request={"method": "GET", "url": url, "path": url[len(self.base_url) :], "params": params})


def _midnight(day: date, tz: ZoneInfo) -> str:
    """Local midnight of ``day`` with that day's UTC offset (DST-aware)."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).isoformat(timespec="milliseconds")
