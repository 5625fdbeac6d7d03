"""Meta Marketing API Insights: daily rows per campaign, ad set or ad, page by page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from urllib.parse import parse_qsl, urlsplit

from adapters.base import Page
from adapters.errors import BadResponseError, PermanentError, redact
from adapters.http import HttpClient, StaticBearerAuth, strip_query_params
from adapters.meta.parse import classify, parse_ad_page, parse_adset_page, parse_page, usage_pause

DEFAULT_BASE_URL = "https://graph.facebook.com"
FIELDS = (
    "campaign_id",
    "campaign_name",
    "spend",
    "impressions",
    "clicks",
    "reach",
    "actions",
    "action_values",
    "account_currency",
    "date_start",
    "date_stop",
)
# Finer levels add their own ids and names (level=adset: the ad set; level=ad: the ad set and the ad).
LEVEL_FIELDS = {
    "campaign": FIELDS,
    "adset": ("adset_id", "adset_name", *FIELDS),
    "ad": ("adset_id", "adset_name", "ad_id", "ad_name", *FIELDS),
}
# The attribution the conversions are reported under, asked for in every request (Meta's default for
# new ad sets since 2021, made explicit so a change of default on Meta's side cannot change our numbers).
ATTRIBUTION_WINDOWS = ("7d_click", "1d_view")
MAX_PAGES = 10_000
PARSERS = {"campaign": parse_page, "adset": parse_adset_page, "ad": parse_ad_page}


def normalise_account_id(account_id: str) -> str:
    account_id = str(account_id).strip()
    account_id = account_id.removeprefix("act_")
    if not account_id.isdigit():
        raise PermanentError(f"meta: ad account id must be digits (optionally act_...), got {account_id!r}")
    return account_id


class MetaInsightsClient:
    """Pulls ``/act_{id}/insights`` at level=campaign (or adset, ad), one row per object and day.

    ``base_url``: ``https://graph.facebook.com`` for the real API, or a sandbox's
    ``http://127.0.0.1:PORT/meta``. The token travels once, in the Authorization
    header; access tokens in ``paging.next`` links are removed before following them.
    """

    platform = "meta"
    report = "insights"

    def __init__(
        self,
        base_url: str,
        access_token: str,
        api_version: str = "v21.0",
        http: HttpClient | None = None,
        page_limit: int = 500,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version if api_version.startswith("v") else f"v{api_version}"
        self.page_limit = page_limit
        self.http = http or HttpClient("meta", classify=classify, usage=usage_pause)
        if not self.http.platform:
            self.http.platform = "meta"
        if self.http.usage is None:
            self.http.usage = usage_pause
        self.http.add_secret(access_token)
        self._auth = StaticBearerAuth(access_token, platform="meta")
        self._secrets = (access_token,)

    def insights_url(self, account_id: str) -> str:
        return f"{self.base_url}/{self.api_version}/act_{normalise_account_id(account_id)}/insights"

    def fetch_insights(self, account_id: str, since: date, until: date, level: str = "campaign") -> Iterator[Page]:
        """Every page of daily rows at ``level`` (campaign, adset, ad) for ``since..until`` (inclusive), in order."""
        account_id = normalise_account_id(account_id)
        if level not in LEVEL_FIELDS:
            raise PermanentError(f"meta insights: level must be one of {', '.join(LEVEL_FIELDS)}, not {level!r}")
        if since > until:
            raise PermanentError(f"meta insights for act_{account_id}: since {since} is after until {until}")
        parse = PARSERS[level]
        url = self.insights_url(account_id)
        params: dict | None = {
            "level": level,
            "time_increment": "1",
            "time_range": json.dumps(
                {"since": since.isoformat(), "until": until.isoformat()},
                separators=(",", ":"),
            ),
            "fields": ",".join(LEVEL_FIELDS[level]),
            "action_attribution_windows": json.dumps(list(ATTRIBUTION_WINDOWS), separators=(",", ":")),
            "limit": str(self.page_limit),
        }
        seen_urls: set[str] = set()
        page_number = 0
        while url:
            page_number += 1
            context = f"meta insights{'' if level == 'campaign' else f' ({level})'} page {page_number} for act_{account_id}"
            if page_number > MAX_PAGES:
                raise BadResponseError(
                    f"{context}: more than {MAX_PAGES} pages; stopping",
                    account_id=account_id,
                )
            response = self.http.request(
                "GET",
                url,
                params=params,
                auth=self._auth,
                classify=classify,
                validate=lambda r, parse=parse: _validate_page(r, parse),
                context=context,
                account_id=account_id,
            )
            body = response.content
            try:
                records = parse(body)
                next_url = _next_url(body)
            except BadResponseError as exc:
                raise exc.with_context(context, platform="meta", account_id=account_id) from None
            # Meta echoes the access token in paging.next: mask it so the stored body holds no credential.
            stored = redact(body.decode("utf-8", errors="replace"), self._secrets).encode("utf-8")
            yield Page(body=stored, records=records, request=self._describe(response.url or url))
            if next_url is not None:
                next_url = self._checked_next(next_url, context, account_id)
                if next_url in seen_urls:
                    raise BadResponseError(
                        f"{context}: paging.next repeats an earlier page",
                        account_id=account_id,
                    )
                seen_urls.add(next_url)
            url, params = next_url, None

    def _checked_next(self, next_url: str, context: str, account_id: str) -> str:
        """The next page's URL without any access token; it must stay on the API's host."""
        clean = strip_query_params(next_url)
        if urlsplit(clean).netloc != urlsplit(self.base_url).netloc:
            raise BadResponseError(
                f"{context}: paging.next points at another host ({urlsplit(clean).netloc})",
                platform="meta",
                account_id=account_id,
            )
        return clean

    def _describe(self, url: str) -> dict:
        clean = strip_query_params(url)
        parts = urlsplit(clean)
        base_path = urlsplit(self.base_url).path.rstrip("/")
        path = parts.path[len(base_path) :] if base_path and parts.path.startswith(base_path) else parts.path
        return {
            "method": "GET",
            "url": self.http.redact(clean),
            "path": path,
            "params": dict(parse_qsl(parts.query, keep_blank_values=True)),
        }


def _validate_page(response, parse=parse_page) -> None:
    """A 200 whose body is not a whole Insights page (truncated, HTML) is re-requested."""
    parse(response.content)
    _next_url(response.content)


def _next_url(body: bytes) -> str | None:
    paging = json.loads(body).get("paging")
    if paging is None:
        return None
    if not isinstance(paging, dict):
        raise BadResponseError(f"'paging' is a {type(paging).__name__}, not an object")
    next_url = paging.get("next")
    if next_url is None:
        return None
    if not isinstance(next_url, str) or not next_url.startswith(("http://", "https://")):
        raise BadResponseError(f"paging.next is not a URL: {str(next_url)[:60]!r}")
    return next_url
