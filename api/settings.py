"""What the service needs, from Airflow Connections (environment variables or a secrets backend).

| Connection          | holds                                                                         |
|---------------------|-------------------------------------------------------------------------------|
| `warehouse_api`     | the `api` role's login and password (host, port, database default to `warehouse`'s) |
| `reporting_api`     | host: the service's public URL (links in alerts); password: the key that signs dashboard and chart links |
| `airflow_api`       | host: Airflow's API server; login and password of a user that may trigger `ads_daily` (optional: sync endpoints answer 503 without it) |

Limits come from environment variables: ADS_API_RATE_LIMIT (requests per token per
minute, default 600), ADS_API_LINK_TTL_DAYS (signed links, default 14),
ADS_API_CACHE_ENTRIES (default 2048).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ads_elt.alerts.links import REPORTING_CONN_ID
from ads_elt.warehouse.roles import API, ROLE_CONNECTIONS

WAREHOUSE_CONN_ID = ROLE_CONNECTIONS[API]  # the api role's Connection (ads_elt.warehouse.roles)
AIRFLOW_CONN_ID = os.environ.get("ADS_API_AIRFLOW_CONN_ID", "airflow_api")


class ConfigurationError(RuntimeError):
    """The service cannot start: a Connection is missing or unsafe."""


@dataclass(frozen=True)
class AirflowTarget:
    url: str
    username: str
    password: str


@dataclass(frozen=True)
class Settings:
    dsn: str
    signing_key: bytes
    public_url: str
    airflow: AirflowTarget | None = None
    rate_limit_per_minute: int = 600
    link_ttl_days: float = 14
    cache_entries: int = 2048

    def __repr__(self) -> str:  # never the DSN's password or the key
        return f"Settings(public_url={self.public_url!r}, airflow={self.airflow.url if self.airflow else None!r})"


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a whole number") from None
    if value <= 0:
        raise ConfigurationError(f"{name} must be positive, got {value}")
    return value


def load() -> Settings:
    """Settings from the Connections above; a missing one stops the service with what to set."""
    from ads_elt.alerts.links import reporting_service
    from ads_elt.registry.connections import base_url
    from ads_elt.warehouse.db import connection_or_none, warehouse_dsn

    if connection_or_none(WAREHOUSE_CONN_ID) is None:
        raise ConfigurationError(
            f"Airflow Connection {WAREHOUSE_CONN_ID!r} (the warehouse's api role) is not defined: "
            "the reporting service never connects as the administrator"
        )
    try:
        reporting = reporting_service()
    except ValueError as exc:  # ADS_API_LINK_TTL_DAYS
        raise ConfigurationError(str(exc)) from None
    if reporting is None:
        raise ConfigurationError(
            f"Airflow Connection {REPORTING_CONN_ID!r} needs the service's URL as host and its link-signing key as password"
        )
    airflow = connection_or_none(AIRFLOW_CONN_ID)
    target = None
    if airflow is not None and airflow.host:
        target = AirflowTarget(base_url(airflow, AIRFLOW_CONN_ID), airflow.login or "", airflow.password or "")
    return Settings(
        dsn=warehouse_dsn(WAREHOUSE_CONN_ID),
        signing_key=reporting.key,
        public_url=reporting.url or "http://127.0.0.1:8765",
        airflow=target,
        rate_limit_per_minute=_int_env("ADS_API_RATE_LIMIT", 600),
        link_ttl_days=reporting.ttl_days,
        cache_entries=_int_env("ADS_API_CACHE_ENTRIES", 2048),
    )
