"""TikTok Marketing API: daily campaign report through ``report/integrated/get``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

from adapters.base import Page
from adapters.errors import BadResponseError, PermanentError
from adapters.http import HttpClient
from adapters.tiktok.parse import WindowTooLargeError, classify, page_info, parse_ad_group_page, parse_page

DEFAULT_BASE_URL = "https://business-api.tiktok.com"
METRICS = (
    "campaign_name",
    "spend",
    "impressions",
    "clicks",
    "conversion",
    "complete_payment",
    "total_complete_payment_rate",
    "video_play_actions",
    "video_watched_2s",
    "video_views_p25",
    "video_views_p50",
    "video_views_p75",
    "video_views_p100",
)
# Ad group level: the ad group's attributes come as metrics (TikTok allows them at AUCTION_ADGROUP).
AD_GROUP_METRICS = ("adgroup_name", "campaign_id", *METRICS)
# data_level -> (dimensions, parser)
LEVELS = {
    "AUCTION_CAMPAIGN": (["campaign_id", "stat_time_day"], parse_page),
    "AUCTION_ADGROUP": (["adgroup_id", "stat_time_day"], parse_ad_group_page),
}
MAX_DAYS = 30
MAX_PAGES = 10_000


class TikTokReportClient:
    """Pulls campaign x day rows for one advertiser, in windows of at most ``max_days``.

    A window TikTok still finds too large (code 40067) is halved until it passes.
    ``base_url``: ``https://business-api.tiktok.com`` or a sandbox's ``http://127.0.0.1:PORT/tiktok``.
    """

    platform = "tiktok"
    report = "campaign_report"

    def __init__(
        self,
        base_url: str,
        access_token: str,
        http: HttpClient | None = None,
        page_size: int = 1000,
        max_days: int = MAX_DAYS,
        metrics: tuple[str, ...] = METRICS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self.max_days = max_days
        self.metrics = metrics
        self.http = http or HttpClient("tiktok", classify=classify)
        if not self.http.platform:
            self.http.platform = "tiktok"
        self.http.add_secret(access_token)
        self._token = access_token

    @property
    def url(self) -> str:
        return f"{self.base_url}/open_api/v1.3/report/integrated/get/"

    def fetch_campaign_report(self, advertiser_id: str, since: date, until: date) -> Iterator[Page]:
        return self._report(advertiser_id, since, until, "AUCTION_CAMPAIGN", self.metrics)

    def fetch_ad_group_report(self, advertiser_id: str, since: date, until: date) -> Iterator[Page]:
        """Ad group x day rows (``data_level=AUCTION_ADGROUP``), with the ad group's name and campaign."""
        return self._report(advertiser_id, since, until, "AUCTION_ADGROUP", AD_GROUP_METRICS)

    def _report(self, advertiser_id: str, since: date, until: date, level: str, metrics: tuple[str, ...]) -> Iterator[Page]:
        advertiser_id = str(advertiser_id).strip()
        if not advertiser_id.isdigit():
            raise PermanentError(f"tiktok: advertiser id must be digits, got {advertiser_id!r}")
        if since > until:
            raise PermanentError(f"tiktok report for advertiser {advertiser_id}: since {since} is after until {until}")
        start = since
        while start <= until:
            end = min(until, start + timedelta(days=self.max_days - 1))
            yield from self._window(advertiser_id, start, end, level, metrics)
            start = end + timedelta(days=1)

    def _window(self, advertiser_id: str, since: date, until: date, level: str, metrics: tuple[str, ...]) -> Iterator[Page]:
        try:
            first = self._page(advertiser_id, since, until, 1, level, metrics)
        except WindowTooLargeError:
            if since == until:
                raise
            middle = since + timedelta(days=(until - since).days // 2)
            yield from self._window(advertiser_id, since, middle, level, metrics)
            yield from self._window(advertiser_id, middle + timedelta(days=1), until, level, metrics)
            return
        yield first
        total_pages = int(page_info(first.body).get("total_page") or 1)
        if total_pages > MAX_PAGES:
            raise BadResponseError(f"tiktok: {total_pages} pages for one window; stopping", account_id=advertiser_id)
        for number in range(2, total_pages + 1):
            yield self._page(advertiser_id, since, until, number, level, metrics)

    def _page(self, advertiser_id: str, since: date, until: date, number: int, level: str, metrics: tuple[str, ...]) -> Page:
        dimensions, parse = LEVELS[level]
        params = {
            "advertiser_id": advertiser_id,
            "report_type": "BASIC",
            "data_level": level,
            "dimensions": json.dumps(dimensions),
            "metrics": json.dumps(list(metrics)),
            "start_date": since.isoformat(),
            "end_date": until.isoformat(),
            "page": str(number),
            "page_size": str(self.page_size),
        }
        context = f"tiktok {level} report page {number} for advertiser {advertiser_id} ({since}..{until})"
        response = self.http.request(
            "GET",
            self.url,
            params=params,
            headers={"Access-Token": self._token},
            classify=classify,
            context=context,
            account_id=advertiser_id,
        )
        try:
            records = parse(response.content)
        except BadResponseError as exc:
            raise exc.with_context(context, platform="tiktok", account_id=advertiser_id) from None
        return Page(
            body=response.content,
            records=records,
            request={"method": "GET", "url": self.url, "path": "/open_api/v1.3/report/integrated/get/", "params": params},
        )
