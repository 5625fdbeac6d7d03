"""Airflow Connections -> adapter clients. The only place credentials are read.

Connection layout per platform (the same code runs against the real API, the
sandbox or any test server: only the host differs):

| platform   | host (base URL)                      | login     | password      | extra                                                          |
|------------|--------------------------------------|-----------|---------------|----------------------------------------------------------------|
| meta       | https://graph.facebook.com           |           | access token  | api_version (default v21.0)                                    |
| google_ads | https://googleads.googleapis.com     | client id | refresh token | developer_token, client_secret, login_customer_id, token_url, api_version |
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


def _base_url(conn, conn_id: str) -> str:
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
            base_url=_base_url(conn, conn_id),
            access_token=_require(conn.password, conn_id, "password (the access token)"),
            api_version=extra.get("api_version", "v21.0"),
        )
    if platform == "google_ads":
        from adapters.google_ads import GoogleAdsClient

        kwargs = {}
        if extra.get("api_version"):
            kwargs["api_version"] = extra["api_version"]
        return GoogleAdsClient(
            base_url=_base_url(conn, conn_id),
            developer_token=_require(extra.get("developer_token"), conn_id, "extra.developer_token"),
            client_id=_require(conn.login, conn_id, "login (the OAuth client id)"),
            client_secret=_require(extra.get("client_secret"), conn_id, "extra.client_secret"),
            refresh_token=_require(conn.password, conn_id, "password (the OAuth refresh token)"),
            token_url=extra.get("token_url") or "https://oauth2.googleapis.com/token",
            login_customer_id=extra.get("login_customer_id"),
            **kwargs,
        )
    raise ConnectionConfigError(f"no adapter for platform {platform!r}")
