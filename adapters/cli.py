"""``python -m adapters``: any platform's report pulled by hand, without Airflow, through the catalogue.

    source .local/env.sh                  # the demo stack's Connections (AIRFLOW_CONN_* variables)
    python -m adapters --list             # platforms, their reports and Connection layouts
    python -m adapters meta --account 1000000001 --since 2026-11-18 --until 2026-11-20 --out /tmp/meta
    python -m adapters shopify --account northwind-outdoor --conn-id shopify_northwind \\
        --timezone America/New_York --since 2026-11-18 --until 2026-11-20

The Connection comes from the variable Airflow itself reads, ``AIRFLOW_CONN_<CONN_ID>`` (JSON, or
a URI), default conn id ``<platform>_default``. The platform's own ``build_client`` builds the
client from it and the report's own ``fetch`` pulls the pages: the code the daily DAG runs, so a
Connection that works here works there, and a platform added to the catalogue has this command
with nothing more. Nothing secret is printed or written: the summary has counts and days, and
``request.json`` the requests the pages answered (the adapters strip credentials from them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.base import Page
from adapters.catalogue import ConnectionSettings, PlatformSpec, SettingsError
from adapters.errors import AdapterError

EXIT_SETTINGS_ERROR = 1
EXIT_ADAPTER_ERROR = 2
UNDATED = "undated"  # the records of an entity list (no report day)


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def add_window_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=iso_date, help="first day (YYYY-MM-DD)")
    parser.add_argument("--until", type=iso_date, help="last day, inclusive")
    parser.add_argument(
        "--out",
        type=Path,
        help="folder to write page-00001.json, ... (bodies untouched) and request.json; without it, print a summary only",
    )


def connection_variable(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def connection_from_env(conn_id: str, environ: Mapping[str, str] | None = None) -> ConnectionSettings:
    """Connection ``conn_id`` from ``AIRFLOW_CONN_<CONN_ID>``, in either of Airflow's forms: JSON
    (``{"conn_type", "host", "port", "login", "password", "extra"}``) or a URI
    (``type://login:password@host:port?extra_key=value``, percent-encoded; ``__extra__`` holds JSON).
    SettingsError names the variable, never its value."""
    environ = os.environ if environ is None else environ
    name = connection_variable(conn_id)
    value = (environ.get(name) or "").strip()
    source = f"Connection {conn_id!r} ({name})"
    if not value:
        raise SettingsError(f"no Connection {conn_id!r}: set {name} (JSON or a URI, as for Airflow)")
    if value.startswith("{"):
        try:
            data = json.loads(value)
        except ValueError as exc:
            raise SettingsError(f"{name} is not valid JSON ({exc.msg} at character {exc.pos})") from None
        if not isinstance(data, dict):
            raise SettingsError(f"{name} is JSON but not an object")
        extra = data.get("extra") or {}
        if isinstance(extra, str):
            extra = _json_object(extra, f"{name}'s extra")
        port = data.get("port")
        return ConnectionSettings(source, data.get("host"), _port(port, name), data.get("login"), data.get("password"), extra)
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc:
        raise SettingsError(f"{name} is neither JSON nor a URI type://login:password@host")
    userinfo, _, hostport = parts.netloc.rpartition("@")
    login, _, password = userinfo.partition(":")
    match = re.fullmatch(r"(.*?)(?::(\d+))?", hostport)
    host, port = match.group(1), match.group(2)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    extra = _json_object(query.pop("__extra__"), f"{name}'s __extra__") if "__extra__" in query else query
    return ConnectionSettings(
        source, unquote(host) or None, _port(port, name), unquote(login) or None, unquote(password) or None, extra
    )


def _json_object(text: str, what: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        raise SettingsError(f"{what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise SettingsError(f"{what} is not a JSON object")
    return value


def _port(value: object, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{name}: port is not a number") from None


def run_extract(
    pages: Callable[[], Iterable[Page]],
    report_date: Callable[[dict], date | None],
    out: Path | None,
) -> int:
    """Drain ``pages``, write them to ``out`` if given, print a summary; 2 on adapter errors."""
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    page_count = 0
    per_day: Counter[str] = Counter()
    requests = []
    try:
        for page in pages():
            page_count += 1
            for record in page.records:
                day = report_date(record)
                per_day[day.isoformat() if day is not None else UNDATED] += 1
            requests.append(page.request)
            if out is not None:
                (out / f"page-{page_count:05d}.json").write_bytes(page.body)
    except AdapterError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_ADAPTER_ERROR
    if out is not None:
        (out / "request.json").write_text(json.dumps(requests, indent=2))
    days = sorted(day for day in per_day if day != UNDATED)
    summary = {
        "pages": page_count,
        "records": sum(per_day.values()),
        "first_day": days[0] if days else None,
        "last_day": days[-1] if days else None,
        "records_per_day": dict(sorted(per_day.items())),
    }
    if out is not None:
        summary["written_to"] = str(out)
    print(json.dumps(summary, indent=2))
    return 0


def catalogue_listing(platforms: Mapping[str, PlatformSpec]) -> str:
    """Each platform: its reports (the first is the default), its default Connection and what it holds."""
    lines = []
    for name, spec in platforms.items():
        reports = ", ".join(r.report + (" (entity list)" if r.entity_list else "") for r in spec.reports())
        lines.append(f"{name} ({spec.label}): {reports}")
        c = spec.connection
        if spec.build_client is None or c is None:
            lines.append("    read from files, not fetched: python -m adapters.file_drop FILE checks one")
            continue
        conn = "the store's own (--conn-id; and --timezone)" if spec.store else f"{name}_default"
        lines.append(f"    Connection: {conn}, host {c.default_host}")
        held = [
            f"{field} = {c_value}"
            for field, c_value in (("login", c.login), ("password", c.password), ("extra", c.extra))
            if c_value
        ]
        if held:
            lines.append("    " + "; ".join(held))
        if c.required:
            lines.append("    required: " + ", ".join(c.required))
    return "\n".join(lines)


def parser_for(platforms: Mapping[str, PlatformSpec]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m adapters",
        description="Pull one account's report for a window of days, with the Connection the daily DAG uses "
        "(read from AIRFLOW_CONN_<CONN_ID>), and print what came back.",
    )
    parser.add_argument("--list", action="store_true", help="list the platforms, their reports and Connections")
    parser.add_argument("platform", nargs="?", choices=list(platforms), metavar="PLATFORM", help=", ".join(platforms))
    parser.add_argument("--account", help="account id (a store's id for a store), as in the registry")
    parser.add_argument("--report", help="one of the platform's reports (default: its first; see --list)")
    parser.add_argument("--conn-id", help="the Airflow Connection (default <platform>_default)")
    parser.add_argument("--timezone", help="a store's IANA time zone (its days are the store's), e.g. Asia/Riyadh")
    add_window_options(parser)
    return parser


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    from adapters import PLATFORMS

    parser = parser_for(PLATFORMS)
    args = parser.parse_args(argv)
    if args.list:
        print(catalogue_listing(PLATFORMS))
        return 0
    if args.platform is None or not args.account:
        parser.error("PLATFORM and --account are required (or --list)")
    if args.since is None or args.until is None:
        parser.error("--since and --until are required")
    spec = PLATFORMS[args.platform]
    try:
        pages, report_date = _extract(spec, args, environ)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_SETTINGS_ERROR
    return run_extract(pages, report_date, args.out)


def _extract(spec: PlatformSpec, args: argparse.Namespace, environ: Mapping[str, str] | None):
    """The report's pages (a callable, as run_extract drains it) and its report date; SettingsError when not possible."""
    if spec.build_client is None:
        raise SettingsError(f"{spec.name} is read from files, not fetched: python -m adapters.file_drop FILE checks one")
    try:
        report = spec.get(args.report or spec.report)
    except KeyError as exc:
        raise SettingsError(f"{spec.name}: {exc.args[0]}") from None
    account = spec.account_id_from_ui(args.account) if spec.account_id_from_ui else args.account
    if not re.fullmatch(spec.account_id_regex, account):
        raise SettingsError(f"{spec.name}: account {args.account!r} does not match {spec.account_id_regex}")
    if spec.zoned:
        if not args.timezone:
            raise SettingsError(f"{spec.name}: a store's days are its own, so --timezone is required (e.g. America/New_York)")
        try:
            ZoneInfo(args.timezone)
        except (ValueError, ZoneInfoNotFoundError):
            raise SettingsError(f"--timezone {args.timezone!r} is not an IANA time zone") from None
    if args.since > args.until:
        raise SettingsError(f"--since {args.since} is after --until {args.until}")
    client = spec.build_client(connection_from_env(args.conn_id or f"{spec.name}_default", environ))
    if spec.zoned:
        return (
            lambda: report.fetch(client, account, args.since, args.until, args.timezone),
            lambda record: report.report_date(record, args.timezone),
        )
    return lambda: report.fetch(client, account, args.since, args.until), report.report_date
