"""Airflow Connections -> adapter clients. The only place credentials are read.

Connection layout per platform (the same code runs against the real API, the
sandbox or any test server: only the host differs):

| platform   | host (base URL)                      | login     | password      | extra                                                          |
|------------|--------------------------------------|-----------|---------------|----------------------------------------------------------------|
| meta       | https://graph.facebook.com           |           | access token  | api_version (default v21.0)                                    |
| google_ads | https://googleads.googleapis.com     | client id | refresh token | developer_token, client_secret, login_customer_id, token_url, api_version |
| tiktok     | https://business-api.tiktok.com      |           | access token  |                                                                |
| snapchat   | https://adsapi.snapchat.com          | client id | refresh token | client_secret, token_url                                       |
| linkedin   | https://api.linkedin.com             | client id | refresh token (or access token without client_secret) | client_secret, token_url, api_version (YYYYMM) |
| amazon_ads | https://advertising-api.amazon.com   | client id | refresh token | client_secret, token_url, report_poll_seconds (default 60)     |
| shopify    | https://{shop}.myshopify.com         |           | Admin API access token | api_version (default 2025-01)                         |
| woocommerce| https://{the shop's site}            | consumer key | consumer secret |                                                            |
| salla      | https://api.salla.dev                |           | access token  |                                                                |
| zid        | https://api.zid.sa                   |           | X-Manager-Token | authorization (the Authorization bearer token)               |

A store's Connection is its own (named by the store's ``connection`` in the registry).

File drops need no Connection: they are read from the workspace's inbox folder.
"""

from __future__ import annotations

from typing import Any


class ConnectionConfigError(ValueError):
    """A Connection is missing or lacks a field the platform needs."""


def _connection(conn_id: str):
    from airflow.sdk import BaseHook

    try:
        return BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException and friends
        raise ConnectionConfigError(f"Airflow Connection {conn_id!r} is not defined ({type(exc).__name__})") from None


def _require(value: Any, conn_id: str, what: str) -> Any:
    if not value:
        raise ConnectionConfigError(f"Airflow Connection {conn_id!r} has no {what}")
    return value


def base_url(conn, conn_id: str) -> str:
    """The Connection's host as a base URL (https:// when it names no scheme), with its port when it has one."""
    host = _require(conn.host, conn_id, "host (the API base URL)")
    if not host.startswith(("http://", "https://")):
        host = f"https://{host}"
    if conn.port and f":{conn.port}" not in host:
        scheme, rest = host.split("://", 1)
        head, _, tail = rest.partition("/")
        host = f"{scheme}://{head}:{conn.port}" + (f"/{tail}" if tail else "")
    return host.rstrip("/")


def client_for(platform: str, conn_id: str):
    """An adapter client for `platform` configured from Connection `conn_id`."""
    conn = _connection(conn_id)
    extra = conn.extra_dejson or {}
    if platform == "meta":
        from adapters.meta import MetaInsightsClient

        return MetaInsightsClient(
            base_url=base_url(conn, conn_id),
            access_token=_require(conn.password, conn_id, "password (the access token)"),
            api_version=extra.get("api_version", "v21.0"),
        )
    if platform == "google_ads":
        from adapters.google_ads import GoogleAdsClient

        kwargs = {}
        if extra.get("api_version"):
            kwargs["api_version"] = extra["api_version"]
        return GoogleAdsClient(
            base_url=base_url(conn, conn_id),
            developer_token=_require(extra.get("developer_token"), conn_id, "extra.developer_token"),
            client_id=_require(conn.login, conn_id, "login (the OAuth client id)"),
            client_secret=_require(extra.get("client_secret"), conn_id, "extra.client_secret"),
            refresh_token=_require(conn.password, conn_id, "password (the OAuth refresh token)"),
            token_url=extra.get("token_url") or "https://oauth2.googleapis.com/token",
            login_customer_id=extra.get("login_customer_id"),
            **kwargs,
        )
    if platform == "tiktok":
        from adapters.tiktok import TikTokReportClient

        return TikTokReportClient(base_url(conn, conn_id), _require(conn.password, conn_id, "password (the access token)"))
    if platform == "snapchat":
        from adapters.snapchat import DEFAULT_TOKEN_URL, SnapchatStatsClient

        return SnapchatStatsClient(
            base_url(conn, conn_id),
            client_id=_require(conn.login, conn_id, "login (the OAuth client id)"),
            client_secret=_require(extra.get("client_secret"), conn_id, "extra.client_secret"),
            refresh_token=_require(conn.password, conn_id, "password (the refresh token)"),
            token_url=extra.get("token_url") or DEFAULT_TOKEN_URL,
        )
    if platform == "linkedin":
        from adapters.linkedin import DEFAULT_TOKEN_URL, LinkedInAnalyticsClient

        secret = _require(conn.password, conn_id, "password (the refresh token, or an access token)")
        refreshable = bool(conn.login and extra.get("client_secret"))
        return LinkedInAnalyticsClient(
            base_url(conn, conn_id),
            access_token=None if refreshable else secret,
            client_id=conn.login if refreshable else None,
            client_secret=extra.get("client_secret") if refreshable else None,
            refresh_token=secret if refreshable else None,
            token_url=extra.get("token_url") or DEFAULT_TOKEN_URL,
            api_version=str(extra.get("api_version") or "202411"),
        )
    if platform == "amazon_ads":
        from adapters.amazon_ads import DEFAULT_TOKEN_URL, AmazonAdsReportClient

        return AmazonAdsReportClient(
            base_url(conn, conn_id),
            client_id=_require(conn.login, conn_id, "login (the Login with Amazon client id)"),
            client_secret=_require(extra.get("client_secret"), conn_id, "extra.client_secret"),
            refresh_token=_require(conn.password, conn_id, "password (the refresh token)"),
            token_url=extra.get("token_url") or DEFAULT_TOKEN_URL,
        )
    if platform in ("shopify", "woocommerce", "salla", "zid"):
        return store_client_for(platform, conn, conn_id)
    raise ConnectionConfigError(f"no adapter for platform {platform!r}")


def store_client_for(platform: str, conn, conn_id: str):
    """A store-orders client from the store's own Connection."""
    extra = conn.extra_dejson or {}
    if platform == "shopify":
        from adapters.shopify import ShopifyOrdersClient
        from adapters.shopify.client import DEFAULT_API_VERSION

        return ShopifyOrdersClient(
            base_url(conn, conn_id),
            _require(conn.password, conn_id, "password (the Admin API access token)"),
            api_version=str(extra.get("api_version") or DEFAULT_API_VERSION),
        )
    if platform == "woocommerce":
        from adapters.woocommerce import WooCommerceOrdersClient

        return WooCommerceOrdersClient(
            base_url(conn, conn_id),
            _require(conn.login, conn_id, "login (the consumer key)"),
            _require(conn.password, conn_id, "password (the consumer secret)"),
        )
    if platform == "salla":
        from adapters.salla import SallaOrdersClient

        return SallaOrdersClient(base_url(conn, conn_id), _require(conn.password, conn_id, "password (the access token)"))
    from adapters.zid import ZidOrdersClient

    return ZidOrdersClient(
        base_url(conn, conn_id),
        authorization=_require(extra.get("authorization"), conn_id, "extra.authorization (the Authorization token)"),
        manager_token=_require(conn.password, conn_id, "password (the X-Manager-Token)"),
    )


def report_poll_seconds(conn_id: str) -> float:
    """How long to wait between two polls of an asynchronous report (``extra.report_poll_seconds``)."""
    extra = _connection(conn_id).extra_dejson or {}
    return float(extra.get("report_poll_seconds") or 60.0)
