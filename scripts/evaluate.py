"""Alert quality on a realistic labelled world: what people would receive, scored against what happened.

    python scripts/evaluate.py                      # 365 days, 4 workspaces, 40 campaigns (make evaluate)
    python scripts/evaluate.py --days 200 --campaigns 20

1. Builds `sandbox.realistic.RealisticWorld`: heavy-tailed daily noise, weekly
   seasonality, holidays, launches, pauses, planned budget steps, drifts, and
   labelled incidents (CTR collapse, spend spike without conversions,
   conversion tracking broken, ROAS collapse, budget overspend, a gradual
   7-day decline, an active campaign that stops reporting).
2. Lands the world in a private PostgreSQL warehouse as the platforms send it
   (each platform's sandbox renderer of its wire format, into the raw tables),
   with the workspaces' accounts, monthly campaign budgets and declared planned
   changes in `ops`, as `prepare` does.
3. Runs the real transformation: `dbt run` of everything `mart_alerts` needs
   (all defaults: the product's operating point).
4. Replays the alerts step day by day (`ads_elt.alerts.run_alerts`: the same
   selection, planned-change filter, deduplication, suppression and
   resolution as production), so `ops.alert_log` holds what people would
   have received.
5. Scores the sent alerts against the labels and writes
   `.local/evaluate/report.json` and `.local/evaluate/report.md`.

Scoring. An alert matches an event when it is about the event's workspace and
entity (the campaign itself, its platform's total, or the workspace total; a
workspace-wide event such as a holiday matches every entity of its
workspace) and its day falls between the event's start and its end plus
`GRACE_DAYS`. An incident is detected when a *sent* alert matches it; its
delay is the first such alert's day minus the incident's start; it counts
toward recall when the delay is within `ALLOWED_DELAY` (1 day, 3 for the
gradual decline). Precision is the share of sent alerts that match an
incident. A sent alert matching no incident is a benign-event alert when it
matches a benign event, else a false alert. False alerts per workspace per 30
days = false alerts / workspaces / (scored days / 30). Only days from
`--score-from` (default: day 60 of the world, once baselines exist) are
replayed and scored.

What the data allows (`ideal_detector_recall`). An incident that leaves
traffic and spend as they were and only takes a share of the conversions
and their value (a ROAS collapse, a gradual decline) can hide in chance on
a campaign with a few conversions a day. For each such incident the report
gives its `visibility_spreads`: how many chance spreads its shortfall
reaches by the last allowed day at the best, for an ideal detector that
knows the campaign's true conversion rate and order value (the shortfall of
the days so far over the Poisson spread of their conversions, widened by
the world's day-level conversion-rate noise, and of their value, widened by
the order values' spread). Such a detector, alerting at the product's 2.25
spreads (`IDEAL_SPREADS`, var `rule_chance_spreads`), catches it with
chance Phi(visibility - 2.25). Every other incident (no row, conversions at
zero, clicks or spend moved) counts as caught. `ideal_detector_recall` is
the mean of those chances: the recall no detector can be expected to beat at
that operating point, whatever its rules.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
for _p in (REPO, REPO / "plugins", REPO / "scripts"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from localpg import Cluster  # noqa: E402
from stack import dbt_cli_env, ensure_manifest, venv_bin  # noqa: E402

OUT = REPO / ".local" / "evaluate"
GRACE_DAYS = 2
ALLOWED_DELAY = {"gradual_decline": 3}
DEFAULT_ALLOWED_DELAY = 1
IDEAL_SPREADS = 2.25  # the product's rule_chance_spreads


def log(message: str) -> None:
    print(f"[evaluate {datetime.now():%H:%M:%S}] {message}", flush=True)


# --------------------------------------------------------------------------- landing


def primary_raw_table(platform: str) -> str:
    """The raw table of the platform's campaign-day report (the catalogue's)."""
    from adapters import PLATFORMS

    spec = PLATFORMS[platform]
    return f"raw.{spec.raw_table(spec.report)}"


def payload(platform: str, account, row: dict) -> dict:
    """One campaign-day as the platform's API returns it (its sandbox module's ``REALISTIC.record``)."""
    from sandbox.realistic import PROFILES

    if platform not in PROFILES:
        raise ValueError(f"no renderer for platform {platform!r}")
    return PROFILES[platform].record(account, row)


def land(conn, world) -> int:
    """The world's rows into the raw tables, and the workspace settings into ops, as `prepare` and the loads do."""
    import psycopg2.extras

    from ads_elt.alerts import planned_change_id
    from ads_elt.warehouse import ensure_schema

    ensure_schema(conn)
    workspaces = {w.workspace_id: w for w in world.workspaces}
    accounts: dict[tuple[str, str], SimpleNamespace] = {}
    for c in world.campaigns:
        ws = workspaces[c.workspace_id]
        accounts.setdefault(
            (c.platform, c.account_id),
            SimpleNamespace(
                workspace_id=c.workspace_id, account_id=c.account_id, name=f"{c.workspace_id} {c.platform}",
                currency=c.currency, timezone=ws.timezone,
            ),
        )  # fmt: skip
    extracted = datetime.combine(world.end + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)
    with conn.cursor() as cur:
        for (platform, account_id), a in accounts.items():
            cur.execute(
                "insert into ops.workspace_accounts (workspace_id, platform, account_id, account_name, currency, timezone, "
                "reporting_currency) values (%s, %s, %s, %s, %s, %s, %s)",
                (a.workspace_id, platform, account_id, a.name, a.currency, a.timezone, workspaces[a.workspace_id].currency),
            )
        for c in world.campaigns:
            cur.execute(
                "insert into ops.campaign_budgets values (%s, %s, %s, %s)",
                (c.workspace_id, c.platform, c.campaign_id, c.monthly_budget),
            )
        for ws in world.workspaces:
            for change in world.planned_changes(ws.workspace_id):
                entry = SimpleNamespace(
                    kind=change["kind"], start=change["start"], end=change.get("end", change["start"]),
                    platform=change.get("platform"), campaign_id=change.get("campaign_id"),
                )  # fmt: skip
                cur.execute(
                    "insert into ops.planned_changes (workspace_id, change_id, kind, platform, campaign_id, start_date, "
                    "end_date, settle_days, note) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        ws.workspace_id, planned_change_id(entry), entry.kind, entry.platform, entry.campaign_id,
                        entry.start, entry.end, change.get("settle_days", 14 if entry.kind in ("launch", "budget_step") else 0),
                        change.get("note"),
                    ),
                )  # fmt: skip
        by_table: dict[str, list[tuple]] = defaultdict(list)
        for row in world.rows():
            platform = row["platform"]
            a = accounts[(platform, row["account_id"])]
            by_table[primary_raw_table(platform)].append(
                (
                    row["workspace_id"], row["account_id"], row["date"], json.dumps(payload(platform, a, row)),
                    "evaluate", world.start, world.end, extracted,
                )
            )  # fmt: skip
        for table, rows in by_table.items():
            psycopg2.extras.execute_values(
                cur,
                f"insert into {table} (workspace_id, account_id, report_date, payload, sync_run_id, window_start, "
                "window_end, extracted_at) values %s",
                rows,
                page_size=5000,
            )
    conn.commit()
    return sum(len(r) for r in by_table.values())


def run_dbt(cluster: Cluster, dbname: str, workdir: Path) -> None:
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_")}
    env.update(dbt_cli_env(cluster.port, cluster.password, dbname), DO_NOT_TRACK="1", DBT_SCHEMA="analytics")
    cmd = [
        venv_bin("dbt"), "build", "--select", "+mart_alerts", "--exclude", "test_type:unit", "test_type:data",
        "--profiles-dir", str(REPO / "dbt_project"), "--project-dir", str(REPO / "dbt_project"),
        "--target-path", str(workdir / "target"), "--log-path", str(workdir / "logs"),
    ]  # fmt: skip
    done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dbt build failed:\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}")


def replay(conn, world, first: date) -> None:
    """The alerts step for every day from `first` to the world's last, in order (what people would have received)."""
    from ads_elt.alerts import WorkspaceAlertSettings, run_alerts

    settings = {w.workspace_id: WorkspaceAlertSettings(w.workspace_id, w.workspace_id) for w in world.workspaces}
    logging.getLogger("ads_elt").setLevel(logging.WARNING)
    day = first
    while day <= world.end:
        run_alerts(conn, day, settings, chart_for=lambda *_: None)
        day += timedelta(days=1)


# --------------------------------------------------------------------------- scoring


def matches(alert: dict, event) -> bool:
    if alert["workspace_id"] != event.workspace_id:
        return False
    if not event.start <= alert["date_day"] <= event.end + timedelta(days=GRACE_DAYS):
        return False
    if event.campaign_id is None:
        return True
    if alert["platform"] == "all":
        return True  # the workspace total
    if alert["platform"] != event.platform:
        return False
    return alert["campaign_id"] in ("all", event.campaign_id)


def visibility_spreads(world, event) -> float | None:
    """How many chance spreads an ideal detector could see the incident by, within its allowed delay (module
    docstring); None when it moves traffic or spend, drops the row or zeroes the conversions (beyond chance)."""
    from sandbox.realistic import AOV_SIGMA, CVR_SIGMA

    allowed = ALLOWED_DELAY.get(event.kind, DEFAULT_ALLOWED_DELAY)
    days = [event.start + timedelta(days=k) for k in range(min(allowed, (event.end - event.start).days) + 1)]
    effects = [world.effect(event, day) for day in days]
    if any(f is None or f[:3] != (1.0, 1.0, 1.0) or f[3] == 0.0 for f in effects):
        return None
    expected = world.levels(world.campaign(event.platform, event.account_id, event.campaign_id)).conversions_per_day
    rate_noise = (expected * CVR_SIGMA) ** 2
    best = 0.0
    for n in range(1, len(effects) + 1):
        conversions_short = sum(1.0 - f[3] for f in effects[:n]) * expected
        value_short = sum(1.0 - f[4] for f in effects[:n]) * expected  # in average orders
        best = max(
            best,
            conversions_short / math.sqrt(n * (expected + rate_noise)),
            value_short / math.sqrt(n * (expected * (1.0 + AOV_SIGMA**2) + rate_noise)),
        )
    return round(best, 2)


def detection_chance(spreads: float | None) -> float:
    """The chance that an ideal detector alerting at ``IDEAL_SPREADS`` catches an incident this visible."""
    return 1.0 if spreads is None else statistics.NormalDist().cdf(spreads - IDEAL_SPREADS)


def score(alerts: list[dict], world, first: date) -> dict:
    """The report: recall, precision, delays and false alerts, overall and per detector and rule."""
    scored_days = (world.end - first).days + 1
    incidents = [e for e in world.events if e.incident and e.start >= first]
    benign = [e for e in world.events if not e.incident and e.end + timedelta(days=GRACE_DAYS) >= first]
    unique = {a["alert_key"]: a for a in alerts}  # an alert delivered again (a rerun, a retried channel) counts once
    alerts = list(unique.values())
    sent = [a for a in alerts if a["status"] == "sent"]
    outcome = {}
    for e in incidents:
        hits = sorted((a for a in sent if matches(a, e)), key=lambda a: a["date_day"])
        delay = (hits[0]["date_day"] - e.start).days if hits else None
        allowed = ALLOWED_DELAY.get(e.kind, DEFAULT_ALLOWED_DELAY)
        outcome[e.event_id] = {
            "kind": e.kind, "workspace_id": e.workspace_id, "platform": e.platform, "campaign_id": e.campaign_id,
            "start": e.start.isoformat(), "end": e.end.isoformat(), "detected": delay is not None and delay <= allowed,
            "delay_days": delay, "first_alert": f"{hits[0]['source']}:{hits[0]['signal']}" if hits else None,
            "visibility_spreads": visibility_spreads(world, e),
        }  # fmt: skip
    classified = []
    for a in sent:
        incident = next((e for e in incidents if matches(a, e)), None)
        event = None if incident else next((e for e in benign if matches(a, e)), None)
        kind = "incident" if incident else "benign" if event else "false"
        classified.append({**a, "class": kind, "event": (incident or event).event_id if (incident or event) else None,
                           "declared": bool(event and event.declared)})  # fmt: skip
    n_ws = len(world.workspaces)
    per_30 = scored_days / 30.0

    def ideal_recall(found: list[dict]) -> float | None:
        return round(sum(detection_chance(o["visibility_spreads"]) for o in found) / len(found), 3) if found else None

    def summary(rows: list[dict], found: list[dict]) -> dict:
        true = sum(r["class"] == "incident" for r in rows)
        false = sum(r["class"] == "false" for r in rows)
        delays = [o["delay_days"] for o in found if o["delay_days"] is not None]
        return {
            "sent": len(rows),
            "true": true,
            "false": false,
            "benign": sum(r["class"] == "benign" for r in rows),
            "precision": round(true / len(rows), 3) if rows else None,
            "recall": round(sum(o["detected"] for o in found) / len(found), 3) if found else None,
            "ideal_detector_recall": ideal_recall(found),
            "median_detection_delay_days": statistics.median(delays) if delays else None,
            "false_alerts_per_workspace_per_30d": round(false / n_ws / per_30, 2),
        }

    detectors: dict[str, dict] = {}
    for signal in sorted({f"{a['source']}:{a['signal']}" for a in classified}):
        rows = [a for a in classified if f"{a['source']}:{a['signal']}" == signal]
        firsts = [o for o in outcome.values() if o["first_alert"] == signal]
        detectors[signal] = summary(rows, firsts)
    kinds = {k: summary([a for a in classified if a["event"] in {i for i, o in outcome.items() if o["kind"] == k}],
                        [o for o in outcome.values() if o["kind"] == k])
             for k in sorted({o["kind"] for o in outcome.values()})}  # fmt: skip
    overall = summary(classified, list(outcome.values()))
    return {
        "recall": overall["recall"],
        "ideal_detector_recall": overall["ideal_detector_recall"],
        "precision": overall["precision"],
        "false_alerts_per_workspace_per_30d": overall["false_alerts_per_workspace_per_30d"],
        "benign_event_alerts": overall["benign"],
        "declared_planned_change_alerts": sum(a["declared"] for a in classified),
        "declared_planned_change_alerts_by_signal": Counter(f"{a['source']}:{a['signal']}" for a in classified if a["declared"]),
        "median_detection_delay_days": overall["median_detection_delay_days"],
        "incidents": len(incidents),
        "days": scored_days,
        "workspaces": n_ws,
        "alerts_sent": len(sent),
        "alerts_held_back": Counter(a["status"] for a in alerts if a["status"] != "sent"),
        "false_alerts_by_signal": Counter(f"{a['source']}:{a['signal']}" for a in classified if a["class"] == "false"),
        "false_alerts_by_entity": Counter(
            "workspace" if a["platform"] == "all" else "platform" if a["campaign_id"] == "all" else "campaign"
            for a in classified if a["class"] == "false"
        ),
        "benign_alerts_by_event_kind": Counter(
            next(e.kind for e in world.events if e.event_id == a["event"]) for a in classified if a["class"] == "benign"
        ),
        "by_detector": detectors,
        "by_incident_kind": kinds,
        "incident_outcomes": outcome,
        # Each alert people would not want: on nothing, or on a change the workspace declared.
        "unwanted_alerts": [
            {"class": "declared" if a["declared"] else "false", "event": a["event"], "workspace_id": a["workspace_id"],
             "platform": a["platform"], "campaign_id": a["campaign_id"], "signal": f"{a['source']}:{a['signal']}",
             "date_day": a["date_day"].isoformat()}
            for a in sorted(classified, key=lambda a: (a["date_day"], a["workspace_id"], a["platform"], a["campaign_id"]))
            if a["class"] == "false" or a["declared"]
        ],
    }


def markdown(report: dict) -> str:
    lines = [
        f"Alert quality on a {report['days']}-day scored window, {report['workspaces']} workspaces, "
        f"{report['incidents']} labelled incidents (what people receive: after planned changes, acknowledgement "
        "state, deduplication and suppression).",
        "",
        "| detector / rule | sent | on incidents | false | on benign events | precision | recall (first alert) | "
        "median delay (days) | false / workspace / 30 d |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def row(name: str, s: dict) -> str:
        def fmt(v):
            return "-" if v is None else str(v)

        return (
            f"| {name} | {s['sent']} | {s['true']} | {s['false']} | {s['benign']} | {fmt(s['precision'])} | "
            f"{fmt(s['recall'])} | {fmt(s['median_detection_delay_days'])} | {s['false_alerts_per_workspace_per_30d']} |"
        )

    for name, s in report["by_detector"].items():
        lines.append(row(name, s))
    total = {
        "sent": report["alerts_sent"], "true": sum(s["true"] for s in report["by_detector"].values()),
        "false": sum(s["false"] for s in report["by_detector"].values()), "benign": report["benign_event_alerts"],
        "precision": report["precision"], "recall": report["recall"],
        "median_detection_delay_days": report["median_detection_delay_days"],
        "false_alerts_per_workspace_per_30d": report["false_alerts_per_workspace_per_30d"],
    }  # fmt: skip
    lines.append(row("**all**", total))
    lines += [
        "",
        "| incident kind | incidents | recall | an ideal detector's recall | median delay (days) |",
        "|---|---|---|---|---|",
    ]
    for kind, s in report["by_incident_kind"].items():
        n = sum(1 for o in report["incident_outcomes"].values() if o["kind"] == kind)
        lines.append(f"| {kind} | {n} | {s['recall']} | {s['ideal_detector_recall']} | {s['median_detection_delay_days']} |")
    lines += [
        "",
        f"Alerts on declared planned changes: {report['declared_planned_change_alerts']}.",
        "",
        f"An ideal detector (it knows each campaign's true conversion rate and order value) alerting at {IDEAL_SPREADS} "
        f"chance spreads would be expected to reach recall {report['ideal_detector_recall']}: what it would miss hides in chance.",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--start", type=date.fromisoformat, default=date(2025, 12, 1), help="first day of the world")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--workspaces", type=int, default=4)
    ap.add_argument("--campaigns", type=int, default=40)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--score-from", type=int, default=60, help="first scored day, counted from the world's start (default %(default)s)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--keep", action="store_true", help="keep the warehouse's directory (printed) for inspection")
    args = ap.parse_args(argv)

    import psycopg2

    from sandbox.realistic import RealisticWorld

    t0 = time.monotonic()
    world = RealisticWorld(args.start, days=args.days, workspaces=args.workspaces, campaigns=args.campaigns, seed=args.seed)
    first = world.start + timedelta(days=args.score_from)
    log(f"world: {len(world.workspaces)} workspaces, {len(world.campaigns)} campaigns, {args.days} days, "
        f"{sum(e.incident for e in world.events)} incidents, {sum(not e.incident for e in world.events)} benign events")  # fmt: skip
    root = Path(tempfile.mkdtemp(prefix="ads-elt-evaluate-"))
    cluster = Cluster(root / "pg")
    cluster.start()
    try:
        conn = psycopg2.connect(cluster.dsn("postgres"))
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("create database evaluate")
        conn.close()
        conn = psycopg2.connect(cluster.dsn("evaluate"))
        rows = land(conn, world)
        log(f"landed {rows} campaign-days in the raw tables ({time.monotonic() - t0:.0f} s)")
        ensure_manifest({"DBT_PORT": str(cluster.port)})
        run_dbt(cluster, "evaluate", root)
        log(f"dbt built mart_alerts ({time.monotonic() - t0:.0f} s)")
        replay(conn, world, first)
        log(f"alerts replayed from {first} to {world.end} ({time.monotonic() - t0:.0f} s)")
        with conn.cursor() as cur:
            cur.execute(
                "select l.alert_key, l.workspace_id, l.platform, l.entity_id, l.metric, l.date_day, l.status, "
                "coalesce(l.source, 'health') from ops.alert_log l where l.date_day >= %s",
                (first,),
            )
            alerts = [
                {"alert_key": k, "workspace_id": w, "platform": p, "campaign_id": e, "signal": m, "date_day": d, "status": s, "source": src}
                for k, w, p, e, m, d, s, src in cur.fetchall()
            ]
        conn.close()
    finally:
        cluster.stop() if args.keep else cluster.destroy()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            log(f"warehouse kept under {root}")
    report = score(alerts, world, first)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (args.out / "report.md").write_text(markdown(report))
    print(markdown(report))
    log(f"report: {args.out / 'report.json'} ({time.monotonic() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
