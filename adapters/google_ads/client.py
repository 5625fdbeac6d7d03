"""Google Ads API (REST): daily campaign performance through googleAds:searchStream."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from adapters.base import Page
from adapters.errors import BadResponseError, PermanentError
from adapters.google_ads.parse import classify, parse_ad_group_page, parse_page
from adapters.http import HttpClient, OAuth2RefreshTokenAuth

DEFAULT_BASE_URL = "https://googleads.googleapis.com"
DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"
QUERY = (
    "SELECT campaign.id, campaign.name, segments.date, metrics.cost_micros, "
    "metrics.impressions, metrics.clicks, metrics.conversions, metrics.conversions_value "
    "FROM campaign WHERE segments.date BETWEEN '{since}' AND '{until}'"
)
# The fields the campaign query selects, in its order (a searchStream row carries exactly these).
QUERY_FIELDS = tuple(QUERY.split("SELECT ", 1)[1].split(" FROM ", 1)[0].split(", "))
# One row per ad group and day; the ad group's campaign comes along (implicitly joined resource).
AD_GROUP_QUERY = (
    "SELECT ad_group.id, ad_group.name, campaign.id, campaign.name, segments.date, metrics.cost_micros, "
    "metrics.impressions, metrics.clicks, metrics.conversions, metrics.conversions_value "
    "FROM ad_group WHERE segments.date BETWEEN '{since}' AND '{until}'"
)


def normalise_customer_id(customer_id: str | int, what: str = "customer id") -> str:
    """``123-456-7890`` -> ``1234567890``; the API wants digits only."""
    digits = str(customer_id).strip().replace("-", "")
    if not digits.isdigit():
        raise PermanentError(f"google_ads: {what} must be 10 digits, got {customer_id!r}")
    return digits


class GoogleAdsClient:
    """Pulls daily campaign rows with one searchStream call per account and window.

    ``base_url``: ``https://googleads.googleapis.com`` for the real API, or a sandbox's
    ``http://127.0.0.1:PORT/google_ads``. ``token_url``: where the refresh token is
    exchanged for access tokens; Google's by default, the sandbox's
    ``http://127.0.0.1:PORT/google_ads/oauth2/token`` against the sandbox.
    """

    platform = "google_ads"
    report = "campaign_performance"

    def __init__(
        self,
        base_url: str,
        developer_token: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        token_url: str | None = None,
        login_customer_id: str | None = None,
        api_version: str = "v21",
        http: HttpClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version if api_version.startswith("v") else f"v{api_version}"
        self.token_url = token_url or DEFAULT_TOKEN_URL
        self.login_customer_id = normalise_customer_id(login_customer_id, "login customer id") if login_customer_id else None
        self.http = http or HttpClient("google_ads", classify=classify)
        if not self.http.platform:
            self.http.platform = "google_ads"
        self._developer_token = developer_token
        self.http.add_secret(developer_token, client_secret, refresh_token)
        self.auth = OAuth2RefreshTokenAuth(self.http, self.token_url, client_id, client_secret, refresh_token)

    def search_stream_url(self, customer_id: str) -> str:
        return f"{self.base_url}/{self.api_version}/customers/{normalise_customer_id(customer_id)}/googleAds:searchStream"

    def _headers(self) -> dict[str, str]:
        headers = {"developer-token": self._developer_token}
        if self.login_customer_id:
            headers["login-customer-id"] = self.login_customer_id
        return headers

    def fetch_campaign_performance(self, customer_id: str, since: date, until: date) -> Iterator[Page]:
        """One Page: the whole stream body; its records are the campaign-day rows of every batch."""
        return self._search_stream(customer_id, since, until, QUERY, parse_page)

    def fetch_ad_group_performance(self, customer_id: str, since: date, until: date) -> Iterator[Page]:
        """One Page: the whole stream body of ``FROM ad_group``; one record per ad group and day."""
        return self._search_stream(customer_id, since, until, AD_GROUP_QUERY, parse_ad_group_page)

    def _search_stream(self, customer_id: str, since: date, until: date, query_template: str, parse) -> Iterator[Page]:
        customer_id = normalise_customer_id(customer_id)
        if since > until:
            raise PermanentError(f"google_ads searchStream for customer {customer_id}: since {since} is after until {until}")
        query = query_template.format(since=since.isoformat(), until=until.isoformat())
        url = self.search_stream_url(customer_id)
        context = f"google_ads searchStream for customer {customer_id}"
        response = self.http.request(
            "POST",
            url,
            json={"query": query},
            headers=self._headers(),
            auth=self.auth,
            classify=classify,
            validate=lambda r: parse(r.content),
            context=context,
            account_id=customer_id,
        )
        body = response.content
        try:
            records = parse(body)
        except BadResponseError as exc:
            raise exc.with_context(context, platform="google_ads", account_id=customer_id) from None
        request = {
            "method": "POST",
            "url": url,
            "path": url[len(self.base_url) :],
            "params": {"query": query},
        }
        if self.login_customer_id:
            request["params"]["login_customer_id"] = self.login_customer_id
        yield Page(body=body, records=records, request=request)
