"""What people did with an alert: open, acknowledged, snoozed until a day, resolved.

An alert belongs to a *series*: the same workspace, platform, entity
(campaign, or `all` for a workspace total) and signal (metric or rule id) on
successive days. The state lives on each `ops.alert_log` row (`state`,
`state_until`, `state_changed_at`, `state_changed_by`) and is set for the
series, so what a person decides about today's alert holds for the same
condition tomorrow:

    open          new; counted as open in the workspace's digest
    acknowledged  someone is on it: the series is not sent again until it
                  resolves (a day it does not fire), then a new occurrence is
                  a new alert
    snoozed       not sent again until `state_until` (inclusive), whatever
                  happens; after that day it alerts as usual
    resolved      the condition did not fire on a later run date (set by the
                  alerts step), or someone resolved it by hand

Command line (the warehouse from the Airflow Connection `warehouse`, or
`--dsn`); ALERT_ID is the id shown in the digest (a unique prefix of at
least 6 characters is enough) or the full alert key:

    python -m ads_elt.alerts list [--workspace ID] [--state open]
    python -m ads_elt.alerts ack ALERT_ID [--by NAME]
    python -m ads_elt.alerts snooze ALERT_ID --until 2026-12-10 [--by NAME]
    python -m ads_elt.alerts resolve ALERT_ID [--by NAME]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

STATES = ("open", "acknowledged", "snoozed", "resolved")
MIN_PREFIX = 6
SHOWN_ID_CHARS = 10
SERIES = ("workspace_id", "platform", "entity_id", "metric")


class AlertNotFound(LookupError):
    pass


def short_id(alert_id: str) -> str:
    """The id shown to people (the first characters of the alert id)."""
    return alert_id[:SHOWN_ID_CHARS]


def default_alert_id(alert_key: str) -> str:
    """An alert's id when its source row carries none: a hash of its key."""
    return hashlib.md5(alert_key.encode()).hexdigest()  # noqa: S324 - an identifier, not a secret


def holding(cur, workspace_id: str, platform: str, entity_id: str, signal: str, day: date) -> tuple[str, str] | None:
    """(alert_key, state) of the series' latest earlier alert when it holds this one back, else None.

    An acknowledged series holds back until it resolves; a snoozed one until its day has passed.
    """
    cur.execute(
        "select alert_key, state, state_until from ops.alert_log "
        "where workspace_id = %s and platform = %s and entity_id = %s and metric = %s and date_day < %s "
        "order by date_day desc limit 1",
        (workspace_id, platform, entity_id, signal, day),
    )
    row = cur.fetchone()
    if row is None:
        return None
    key, state, until = row
    if state == "acknowledged" or (state == "snoozed" and until is not None and until >= day):
        return key, state
    return None


def inherit(cur, alert_key: str, holder_key: str) -> None:
    """Give a new alert the state of the series' alert that holds it back (and mark it suppressed)."""
    cur.execute(
        "update ops.alert_log a set state = h.state, state_until = h.state_until, state_changed_at = now(), "
        "state_changed_by = h.state_changed_by, status = 'suppressed', suppressed_by = h.alert_key "
        "from ops.alert_log h where a.alert_key = %s and h.alert_key = %s",
        (alert_key, holder_key),
    )


def resolve_absent(cur, run_date: date, fired: Iterable[Sequence[str]]) -> int:
    """Resolve the open and acknowledged series that did not fire on `run_date` (their alerts are from before it).

    `fired` holds the series (workspace_id, platform, entity_id, signal) that have an alert on `run_date`.
    Returns how many alert rows were resolved.
    """
    fired = [tuple(s) for s in fired]
    cur.execute(
        "update ops.alert_log l set state = 'resolved', state_changed_at = now(), "
        "state_changed_by = 'not seen on ' || %s::text "
        "where state in ('open', 'acknowledged') and date_day < %s and source in ('anomaly', 'rule') "
        "and (workspace_id, platform, entity_id, metric) not in ("
        "  select * from unnest(%s::text[], %s::text[], %s::text[], %s::text[]))",
        (
            run_date.isoformat(),
            run_date,
            [s[0] for s in fired] or [""],
            [s[1] for s in fired] or [""],
            [s[2] for s in fired] or [""],
            [s[3] for s in fired] or [""],
        ),
    )
    return cur.rowcount


def open_counts(cur, workspace_ids: Iterable[str], including: Iterable[str] = ()) -> dict[str, int]:
    """Per workspace, how many series are open: delivered (or held back as repeats) and not acted on.

    `including` names alert keys about to be delivered, counted as open too. A total held back beside the
    alert of a part of it (`suppressed_by` another entity's alert) was never anyone's to act on: not counted.
    """
    cur.execute(
        "select l.workspace_id, count(distinct (l.platform, l.entity_id, l.metric)) from ops.alert_log l "
        "left join ops.alert_log by_part on by_part.alert_key = l.suppressed_by "
        "and (by_part.platform, by_part.entity_id) <> (l.platform, l.entity_id) "
        "where l.workspace_id = any(%s) and l.state = 'open' and l.source in ('anomaly', 'rule') "
        "and (l.status <> 'pending' or l.alert_key = any(%s)) and by_part.alert_key is null "
        "group by l.workspace_id",
        (list(workspace_ids), list(including)),
    )
    return {ws: int(n) for ws, n in cur.fetchall()}


def find(cur, alert_id: str) -> dict[str, Any]:
    """The alert_log row of an alert id, a unique prefix of one, or an alert key."""
    alert_id = alert_id.strip()
    cur.execute(
        "select alert_key, alert_id, workspace_id, platform, entity_id, metric, date_day, state, state_until, "
        "status, message from ops.alert_log where alert_key = %s or alert_id = %s",
        (alert_id, alert_id),
    )
    rows = cur.fetchall()
    if not rows and len(alert_id) >= MIN_PREFIX and "|" not in alert_id:
        cur.execute(
            "select alert_key, alert_id, workspace_id, platform, entity_id, metric, date_day, state, state_until, "
            "status, message from ops.alert_log where alert_id like %s order by alert_key limit 5",
            (alert_id.replace("%", "").replace("_", "") + "%",),
        )
        rows = cur.fetchall()
    if not rows:
        hint = f" (give at least {MIN_PREFIX} characters of its id)" if len(alert_id) < MIN_PREFIX else ""
        raise AlertNotFound(f"no alert {alert_id!r} in ops.alert_log{hint}")
    if len(rows) > 1:
        keys = ", ".join(r[0] for r in rows)
        raise AlertNotFound(f"{alert_id!r} matches more than one alert ({keys}): give more of its id")
    names = ("alert_key", "alert_id", *SERIES, "date_day", "state", "state_until", "status", "message")
    return dict(zip(names, rows[0], strict=True))


def change(cur, alert_id: str, state: str, *, until: date | None = None, by: str | None = None) -> dict[str, Any]:
    """Set the state of an alert and of the earlier alerts of its series that are still open or acknowledged.

    Returns the alert (as found) with `changed`, the number of rows changed.
    """
    if state not in STATES or state == "open":
        raise ValueError(f"state must be one of acknowledged, snoozed, resolved, got {state!r}")
    if state == "snoozed" and until is None:
        raise ValueError("snooze needs --until DATE (the last day it stays quiet)")
    alert = find(cur, alert_id)
    if state == "snoozed" and until < alert["date_day"]:
        raise ValueError(f"--until {until} is before the alert's day {alert['date_day']}")
    cur.execute(
        "update ops.alert_log set state = %s, state_until = %s, state_changed_at = now(), state_changed_by = %s "
        "where workspace_id = %s and platform = %s and entity_id = %s and metric = %s and date_day <= %s "
        "and (alert_key = %s or state in ('open', 'acknowledged', 'snoozed'))",
        (
            state,
            until if state == "snoozed" else None,
            by,
            *(alert[k] for k in SERIES),
            alert["date_day"],
            alert["alert_key"],
        ),
    )
    return {**alert, "state": state, "state_until": until, "changed": cur.rowcount}


def listing(cur, workspace_id: str | None = None, state: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The latest alert of each series, newest first."""
    cur.execute(
        "select distinct on (workspace_id, platform, entity_id, metric) alert_id, alert_key, date_day, state, "
        "state_until, status, message from ops.alert_log "
        "where (%s::text is null or workspace_id = %s) "
        "order by workspace_id, platform, entity_id, metric, date_day desc",
        (workspace_id, workspace_id),
    )
    names = ("alert_id", "alert_key", "date_day", "state", "state_until", "status", "message")
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    if state:
        rows = [r for r in rows if r["state"] == state]
    rows.sort(key=lambda r: (r["date_day"], r["alert_key"]), reverse=True)
    return rows[:limit]


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ads_elt.alerts", description="Acknowledge, snooze or resolve alerts.")
    p.add_argument("--dsn", help="libpq DSN of the warehouse (default: the Airflow Connection `warehouse`)")
    sub = p.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="the latest alert of each series")
    ls.add_argument("--workspace")
    ls.add_argument("--state", choices=STATES)
    ls.add_argument("--limit", type=int, default=50)
    for name, help_text in (("ack", "acknowledge: not sent again until it resolves"), ("resolve", "mark resolved")):
        c = sub.add_parser(name, help=help_text)
        c.add_argument("alert_id")
        c.add_argument("--by", help="who (recorded in ops.alert_log.state_changed_by)")
    s = sub.add_parser("snooze", help="not sent again until a day (inclusive)")
    s.add_argument("alert_id")
    s.add_argument("--until", required=True, type=date.fromisoformat, help="YYYY-MM-DD, the last quiet day")
    s.add_argument("--by")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from ads_elt.warehouse.db import connect

    with connect(args.dsn) as conn, conn.cursor() as cur:
        if args.command == "list":
            for r in listing(cur, args.workspace, args.state, args.limit):
                until = f" until {r['state_until']}" if r["state"] == "snoozed" else ""
                print(f"{short_id(r['alert_id'] or '')}  {r['date_day']}  {r['state']}{until}  {r['message']}")
            return 0
        state = {"ack": "acknowledged", "snooze": "snoozed", "resolve": "resolved"}[args.command]
        try:
            done = change(cur, args.alert_id, state, until=getattr(args, "until", None), by=args.by)
        except (AlertNotFound, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        conn.commit()
        until = f" until {done['state_until']}" if state == "snoozed" else ""
        print(f"{short_id(done['alert_id'] or '')} {state}{until}: {done['message']} ({done['changed']} alert(s) of the series)")
        return 0
