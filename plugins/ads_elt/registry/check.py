"""`python -m ads_elt.registry check [PATH]`: every problem in a registry file, and every Airflow Connection it
names that does not exist."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ads_elt.registry.base import RegistryError, nearest
from ads_elt.registry.core import Registry, load_registry, registry_path

# --------------------------------------------------------------------------- Connections and `check`

ALERT_CONNECTIONS = ("slack_connection", "slack_bot_connection", "teams_connection", "email_connection")


@dataclass(frozen=True)
class ConnectionProblem:
    where: str  # the registry field naming the Connection
    conn_id: str
    required: bool  # an account's or store's (its sync fails without it); else an alert channel's (the log stands in)

    def message(self, known: list[str]) -> str:
        if self.required:
            return f"{self.where}: Airflow Connection {self.conn_id!r} does not exist{nearest(self.conn_id, known)}"
        return (
            f"{self.where}: Airflow Connection {self.conn_id!r} does not exist{nearest(self.conn_id, known)}: "
            "that channel's alerts go to the task log"
        )


def named_connections(registry: Registry) -> list[tuple[str, str, bool]]:
    """(registry field, Connection id, required) for every Connection the registry names (defaults included)."""
    out = []
    for i, ws in enumerate(registry.workspaces):
        for kind, accounts in (("accounts", ws.accounts), ("stores", ws.stores)):
            for j, account in enumerate(accounts):
                out.append((f"workspaces[{i}].{kind}[{j}].connection", account.connection, True))
        channels = {"slack_connection": ws.slack_connection, **{k: getattr(ws.alerting, k) for k in ALERT_CONNECTIONS[1:]}}
        for key, conn_id in channels.items():
            if conn_id:
                out.append((f"workspaces[{i}].alerts.{key}", conn_id, False))
    return out


def connection_exists(conn_id: str) -> bool:
    """Whether Airflow resolves `conn_id` (environment variables, secrets backends, the metadata database)."""
    from airflow.sdk import BaseHook

    try:
        BaseHook.get_connection(conn_id)
    except Exception:  # AirflowNotFoundException, or no way to reach the metadata database
        return False
    return True


def known_connection_ids() -> list[str]:
    """Connection ids defined here, for `did you mean`: AIRFLOW_CONN_* variables and, outside a task, the metadata DB."""
    ids = {k.removeprefix("AIRFLOW_CONN_").lower() for k in os.environ if k.startswith("AIRFLOW_CONN_")}
    try:
        from airflow.models import Connection
        from airflow.utils.session import create_session

        with create_session() as session:
            ids |= {c for (c,) in session.query(Connection.conn_id)}  # noqa: AIR311 - the ORM model; airflow.sdk's Connection cannot be queried
    except Exception:  # inside a task (no direct database access) or no metadata database
        pass
    return sorted(ids)


def missing_connections(registry: Registry, exists=connection_exists) -> list[ConnectionProblem]:
    """Every Connection the registry names that Airflow does not have."""
    checked: dict[str, bool] = {}
    problems = []
    for where, conn_id, required in named_connections(registry):
        if conn_id not in checked:
            checked[conn_id] = exists(conn_id)
        if not checked[conn_id]:
            problems.append(ConnectionProblem(where, conn_id, required))
    return problems


def check(
    path: str | os.PathLike | None = None, exists=connection_exists, known: list[str] | None = None
) -> tuple[list[str], list[str]]:
    """(errors, warnings) of a registry: every problem in the file, then every Connection it names that is missing."""
    try:
        registry = load_registry(path)
    except RegistryError as exc:
        return list(exc.problems), []
    problems = missing_connections(registry, exists)
    known = known_connection_ids() if known is None and problems else (known or [])
    errors = [f"{registry.path}: {p.message(known)}" for p in problems if p.required]
    warnings = [f"{registry.path}: {p.message(known)}" for p in problems if not p.required]
    return errors, warnings


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m ads_elt.registry", description="Check a workspace registry without a run.")
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="list every problem of the registry and every Connection it names that does not exist")
    c.add_argument(
        "path", nargs="?", default=None, help="the registry file (default: $ADS_ELT_REGISTRY or config/workspaces.yml)"
    )
    args = ap.parse_args(argv)
    path = args.path or registry_path()
    errors, warnings = check(path)
    for line in errors:
        print(f"error: {line}")
    for line in warnings:
        print(f"warning: {line}")
    if errors:
        print(f"{path}: {len(errors)} error(s)")
        return 1
    print(f"{path}: valid" + (f", {len(warnings)} warning(s)" if warnings else ""))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
