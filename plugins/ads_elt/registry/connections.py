"""Airflow Connections -> adapter clients. The only place credentials are read.

Each platform's spec in the catalogue (``adapters.PLATFORMS``) says how its Connection is
filled in (``spec.connection``: the default host, what login, password and extra hold, which
are required) and builds its client from the Connection's plain values
(``spec.build_client(ConnectionSettings)``); this module only reads the Connection. The same
code runs against the real API, the sandbox or any test server: only the host differs.
``connection_table()`` renders every platform's layout (docs/operating.md shows it).

A store's Connection is its own (named by the store's ``connection`` in the registry).

File drops need no Connection: they are read from the workspace's inbox folder.
"""

from __future__ import annotations

from adapters.catalogue import ConnectionSettings, SettingsError


class ConnectionConfigError(ValueError):
    """A Connection is missing or lacks a field the platform needs."""


def airflow_connection(conn_id: str):
    """The Airflow Connection `conn_id`; ConnectionConfigError naming it when it is not defined."""
    from airflow.sdk import BaseHook

    try:
        return BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException and friends
        raise ConnectionConfigError(f"Airflow Connection {conn_id!r} is not defined ({type(exc).__name__})") from None


def settings(conn, conn_id: str) -> ConnectionSettings:
    """A Connection's plain values, for an adapter's client builder."""
    return ConnectionSettings(
        f"Airflow Connection {conn_id!r}", conn.host, conn.port, conn.login, conn.password, conn.extra_dejson or {}
    )


def base_url(conn, conn_id: str) -> str:
    """The Connection's host as a base URL (https:// when it names no scheme), with its port when it has one."""
    try:
        return settings(conn, conn_id).base_url()
    except SettingsError as exc:
        raise ConnectionConfigError(str(exc)) from None


def client_for(platform: str, conn_id: str):
    """An adapter client for `platform` configured from Connection `conn_id` (the platform's spec builds it)."""
    from adapters import PLATFORMS

    conn = airflow_connection(conn_id)
    spec = PLATFORMS.get(platform)
    if spec is None or spec.build_client is None:
        raise ConnectionConfigError(f"no adapter for platform {platform!r}")
    try:
        return spec.build_client(settings(conn, conn_id))
    except SettingsError as exc:
        raise ConnectionConfigError(str(exc)) from None


def connection_table() -> str:
    """Every platform's Connection layout as a Markdown table, from the catalogue."""
    from adapters import PLATFORMS

    lines = [
        "| platform | host (base URL) | login | password | extra | required |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, spec in PLATFORMS.items():
        if spec.connection is not None:
            c = spec.connection
            lines.append(f"| {name} | {c.default_host} | {c.login} | {c.password} | {c.extra} | {', '.join(c.required)} |")
    return "\n".join(lines)

