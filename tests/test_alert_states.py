"""What people do with an alert: acknowledged or snoozed series are not sent again while that lasts,
a series that stops firing resolves, the digest says how many are open, and the command line changes states."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from test_alerts import DASHBOARD, FakeSlack, alerts_warehouse, anomaly, insert_anomalies

from ads_elt.alerts import WorkspaceAlertSettings, run_alerts
from ads_elt.alerts import states as alert_states

REPO = Path(__file__).resolve().parents[1]
D1 = date(2026, 11, 20)
CTR = {"metric": "ctr"}  # Northwind Meta campaign 23850000001's CTR, the series acted on
SPEND = {"metric": "spend", "value": 900.0, "baseline_median": 300.0, "baseline_mad": 20.0, "robust_z": 15.0, "direction": "up"}


def settings() -> dict[str, WorkspaceAlertSettings]:
    # suppress_days 0: only what people did holds an alert back here, not the repeat suppression
    return {"northwind_us": WorkspaceAlertSettings("northwind_us", "Northwind Outdoor", DASHBOARD, "slack_alerts", suppress_days=0)}


@pytest.fixture
def wh(pg_conn):
    return alerts_warehouse(pg_conn)


def fire(conn, day: date, *series: dict) -> tuple[dict, FakeSlack]:
    insert_anomalies(conn, [anomaly(day=day, **s) for s in series])
    slack = FakeSlack()
    return run_alerts(conn, day, settings(), send_slack=slack), slack


def log_row(conn, day: date, metric: str) -> tuple:
    with conn.cursor() as cur:
        cur.execute(
            "select status, state, state_until, suppressed_by from ops.alert_log where date_day = %s and metric = %s",
            (day, metric),
        )
        return cur.fetchone()


def key(day: date, metric: str) -> str:
    return f"northwind_us|meta|23850000001|{metric}|{day}"


def change(conn, alert_id: str, state: str, **kw) -> dict:
    with conn.cursor() as cur:
        done = alert_states.change(cur, alert_id, state, **kw)
    conn.commit()
    return done


def test_an_acknowledged_series_is_not_sent_again_until_it_resolves(wh):
    summary, _ = fire(wh, D1, CTR, SPEND)
    assert summary["sent"] == 2
    ctr_id = alert_states.default_alert_id(key(D1, "ctr"))
    assert alert_states.short_id(ctr_id) in summary["messages"]["northwind_us"]  # the digest shows each alert's id
    change(wh, alert_states.short_id(ctr_id), "acknowledged", by="ana")  # the short id people copy from the digest

    d2 = D1 + timedelta(days=1)
    summary, slack = fire(wh, d2, CTR, SPEND)
    assert summary["to_send"] == 1 and summary["sent"] == 1  # spend is still sent; the acknowledged CTR is not
    (_, payload), = slack.calls
    assert "Spend" in str(payload) and "CTR" not in str(payload)
    assert log_row(wh, d2, "ctr") == ("suppressed", "acknowledged", None, key(D1, "ctr"))
    assert log_row(wh, d2, "spend")[:2] == ("sent", "open")

    # a day when CTR is normal again resolves the series; when it collapses again, that is news and is sent
    d3, d4 = d2 + timedelta(days=1), d2 + timedelta(days=2)
    summary, _ = fire(wh, d3, SPEND)
    assert summary["resolved"] == 2  # both acknowledged CTR rows
    assert log_row(wh, d2, "ctr")[1] == "resolved" and log_row(wh, D1, "ctr")[1] == "resolved"
    summary, slack = fire(wh, d4, CTR, SPEND)
    assert summary["sent"] == 2 and log_row(wh, d4, "ctr")[:2] == ("sent", "open")


def test_a_snoozed_series_stays_quiet_through_its_day_then_alerts(wh):
    fire(wh, D1, CTR)
    until = D1 + timedelta(days=2)
    change(wh, key(D1, "ctr"), "snoozed", until=until)
    for n in (1, 2):
        day = D1 + timedelta(days=n)
        summary, slack = fire(wh, day, CTR)
        assert summary["sent"] == 0 and not slack.calls, day
        assert log_row(wh, day, "ctr")[:3] == ("suppressed", "snoozed", until)
    after = until + timedelta(days=1)
    summary, slack = fire(wh, after, CTR)
    assert summary["sent"] == 1 and log_row(wh, after, "ctr")[:2] == ("sent", "open")


def test_the_digest_says_how_many_alerts_are_still_open(wh):
    summary, slack = fire(wh, D1, CTR, SPEND)
    assert "2 alerts open in this workspace" in summary["messages"]["northwind_us"]
    (_, payload), = slack.calls
    assert "2 alerts open in this workspace" in str(payload["blocks"][1])
    change(wh, key(D1, "spend"), "acknowledged")
    d2 = D1 + timedelta(days=1)
    other = {**CTR, "campaign_id": "23850000002", "campaign_name": "Retargeting"}
    summary, _ = fire(wh, d2, CTR, SPEND, other)
    # open: CTR of the first campaign (D1 sent, D2 sent) and the new campaign's; spend is acknowledged
    assert "2 alerts open in this workspace" in summary["messages"]["northwind_us"]


def test_an_unknown_or_ambiguous_id_is_a_clear_error_and_changes_nothing(wh):
    fire(wh, D1, CTR, SPEND)
    with pytest.raises(alert_states.AlertNotFound, match="no alert 'ffffffffff' in ops.alert_log"):
        change(wh, "ffffffffff", "acknowledged")
    with pytest.raises(alert_states.AlertNotFound, match="at least 6 characters"):
        change(wh, "abc", "acknowledged")
    with pytest.raises(ValueError, match="snooze needs --until"):
        change(wh, key(D1, "ctr"), "snoozed")
    with pytest.raises(ValueError, match="before the alert's day"):
        change(wh, key(D1, "ctr"), "snoozed", until=D1 - timedelta(days=1))
    with wh.cursor() as cur:
        cur.execute("select distinct state from ops.alert_log")
        assert cur.fetchall() == [("open",)]


def test_the_command_line_acknowledges_snoozes_and_lists(wh, pg_db):
    server, name = pg_db
    fire(wh, D1, CTR, SPEND)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)])}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "ads_elt.alerts", "--dsn", server.dsn(name), *args],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    ctr = alert_states.short_id(alert_states.default_alert_id(key(D1, "ctr")))
    done = cli("ack", ctr, "--by", "ana")
    assert done.returncode == 0, done.stderr
    assert f"{ctr} acknowledged" in done.stdout
    done = cli("snooze", key(D1, "spend"), "--until", "2026-11-25")
    assert done.returncode == 0 and "snoozed until 2026-11-25" in done.stdout, done.stderr
    listed = cli("list", "--workspace", "northwind_us")
    assert listed.returncode == 0 and f"{ctr}  2026-11-20  acknowledged" in listed.stdout
    assert "snoozed until 2026-11-25" in listed.stdout
    bad = cli("ack", "0000000000")
    assert bad.returncode == 2 and "no alert '0000000000'" in bad.stderr
    with wh.cursor() as cur:
        cur.execute("select metric, state, state_changed_by from ops.alert_log order by metric")
        assert cur.fetchall() == [("ctr", "acknowledged", "ana"), ("spend", "snoozed", None)]


RECOMMENDATIONS_DDL = """
create table marts.mart_budget_recommendations (
    date_day date, workspace_id text, platform text, account_id text, campaign_id text, campaign_name text, currency text,
    recommendation text, current_daily_budget numeric, recommended_daily_budget numeric, change_amount_reporting numeric,
    reason text
)
"""


def test_mondays_digest_carries_the_weeks_budget_recommendations_once(wh):
    monday, tuesday = date(2026, 11, 23), date(2026, 11, 24)
    with wh.cursor() as cur:
        cur.execute(RECOMMENDATIONS_DDL)
        for day in (monday, tuesday):
            cur.execute(
                "insert into marts.mart_budget_recommendations values "
                "(%s, 'northwind_us', 'meta', 'a', '1', 'Retargeting', 'USD', 'increase', 100, 120, 20, 'high ROAS'), "
                "(%s, 'northwind_us', 'google_ads', 'b', '2', 'Generic', 'USD', 'decrease', 200, 150, -50, 'low ROAS'), "
                "(%s, 'northwind_us', 'meta', 'a', '3', 'Brand', 'USD', 'hold', 50, 50, 0, 'near average')",
                (day, day, day),
            )
    wh.commit()
    summary, slack = fire(wh, monday, CTR)
    text = summary["messages"]["northwind_us"]
    assert "Generic (Google Ads): decrease daily budget $200.00 -> $150.00" in text
    assert "Retargeting (Meta): increase daily budget $100.00 -> $120.00" in text and "Brand" not in text
    assert text.index("Generic") < text.index("Retargeting")  # the largest move first
    (_, payload), = slack.calls
    assert "Budget recommendations for the week" in str(payload["blocks"])
    assert "1 alert open in this workspace" in text  # a recommendation is not an open alert
    again = run_alerts(wh, monday, settings(), send_slack=FakeSlack())
    assert again["sent"] == 0  # sent once, like any alert
    summary, _ = fire(wh, tuesday, CTR)
    assert "budget" not in summary["messages"]["northwind_us"].lower()  # only Monday's digest carries them
