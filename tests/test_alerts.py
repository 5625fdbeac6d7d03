"""The alerts step: formatting, dedupe in ops.alert_log, grouping, Slack delivery."""

from __future__ import annotations

import importlib
import json
import logging
import threading
import traceback
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ads_elt.alerts import (
    MAX_BLOCKS,
    AlertDeliveryError,
    AlertSourceMissingError,
    WorkspaceAlertSettings,
    build_alerts,
    build_slack_payload,
    deliver,
    format_money,
    record_and_select_new,
    run_alerts,
)
from ads_elt.warehouse import ensure_schema

DAY = date(2026, 11, 20)
DASHBOARD = (
    "http://localhost:3000/dashboard/1?workspace={workspace_id}"
    "&platform={platform}&campaign={campaign_id}&date={date}"
)

MART_DDL = """
create schema if not exists marts;
create table marts.mart_alerts (
    alert_key text primary key,
    date_day date not null,
    workspace_id text not null,
    platform text not null,
    account_id text,
    campaign_id text not null,
    campaign_name text,
    currency text,
    entity_type text,
    source text not null,
    signal text not null,
    rule_id text,
    metric text,
    direction text,
    value numeric,
    baseline numeric,
    baseline_mad numeric,
    baseline_low numeric,
    baseline_high numeric,
    robust_z numeric,
    threshold numeric,
    scoring_method text,
    history_days integer,
    severity text not null,
    score numeric not null,
    explanation text not null,
    planned_change_id text
);
"""


def settings(
    slack: str | None = None, slack_eu: str | None = None
) -> dict[str, WorkspaceAlertSettings]:
    return {
        "northwind_us": WorkspaceAlertSettings(
            "northwind_us", "Northwind Outdoor", DASHBOARD, slack
        ),
        "lumen_eu": WorkspaceAlertSettings(
            "lumen_eu", "Lumen Skincare EU", DASHBOARD, slack_eu
        ),
    }


def anomaly(
    workspace_id="northwind_us",
    platform="meta",
    account_id="1000000001",
    campaign_id="23850000001",
    campaign_name="Prospecting - Broad",
    currency="USD",
    metric="ctr",
    value=0.0041,
    baseline_median=0.0152,
    baseline_mad=0.0008,
    robust_z=-9.3,
    direction="down",
    is_anomaly=True,
    day=DAY,
    history_days=28,
) -> dict:
    return {
        "alert_key": f"{workspace_id}|{platform}|{campaign_id}|{metric}|{day}",
        "date_day": day,
        "workspace_id": workspace_id,
        "platform": platform,
        "account_id": account_id,
        "campaign_id": campaign_id,
        "campaign_name": campaign_name,
        "currency": currency,
        "entity_type": "campaign",
        "source": "anomaly",
        "signal": metric,
        "rule_id": None,
        "metric": metric,
        "direction": direction,
        "value": value,
        "baseline": baseline_median,
        "baseline_mad": baseline_mad,
        "baseline_low": None,
        "baseline_high": None,
        "robust_z": robust_z,
        "threshold": 3.5,
        "scoring_method": "all_days",
        "history_days": history_days,
        "severity": "critical" if abs(robust_z) >= 7 else "warning",
        "score": abs(robust_z),
        "explanation": f"{metric} unusual",
    }


DEMO_ROWS = [
    anomaly(),  # CTR collapse, Northwind Meta
    anomaly(
        workspace_id="lumen_eu",
        platform="google_ads",
        account_id="2345678901",
        campaign_id="20000000002",
        campaign_name="Search - Brand",
        currency="EUR",
        metric="spend",
        value=1234.5,
        baseline_median=310.0,
        baseline_mad=25.0,
        robust_z=24.9,
        direction="up",
    ),
    anomaly(
        workspace_id="lumen_eu",
        platform="google_ads",
        account_id="2345678901",
        campaign_id="20000000002",
        campaign_name="Search - Brand",
        currency="EUR",
        metric="roas",
        value=0.9,
        baseline_median=3.1,
        baseline_mad=0.4,
        robust_z=-4.1,
        direction="down",
    ),
    anomaly(day=date(2026, 11, 19), robust_z=-8.0),  # another day: not this run's
]


@pytest.fixture(scope="module", autouse=True)
def airflow_logging_configured():
    """Import Airflow before any test captures logs.

    Airflow configures logging when first imported; done inside a test, that
    would detach pytest's capture handler and hide the records checked here.
    """
    importlib.import_module("airflow.sdk")
    importlib.import_module("airflow.providers.slack.hooks.slack_webhook")


def alerts_warehouse(conn):
    """The ops schema and an empty alerts mart in `conn`'s database."""
    ensure_schema(conn)
    with conn.cursor() as cur:
        cur.execute(MART_DDL)
    conn.commit()
    return conn


@pytest.fixture
def wh(pg_conn):
    """A warehouse with the ops schema and a populated anomalies mart."""
    insert_anomalies(alerts_warehouse(pg_conn), DEMO_ROWS)
    return pg_conn


def insert_anomalies(conn, rows) -> None:
    cols = list(rows[0])
    with conn.cursor() as cur:
        for r in rows:
            cur.execute(
                f"insert into marts.mart_alerts ({', '.join(cols)}) values ({', '.join(['%s'] * len(cols))})",
                [r[c] for c in cols],
            )
    conn.commit()


def alert_log(conn) -> dict[str, tuple]:
    with conn.cursor() as cur:
        cur.execute(
            "select alert_key, status, channel, sent_at is not null from ops.alert_log"
        )
        return {r[0]: r[1:] for r in cur.fetchall()}


class FakeSlack:
    def __init__(self, fail_for: set[str] = frozenset()):
        self.calls: list[tuple[str, dict]] = []
        self.fail_for = set(fail_for)

    def __call__(self, connection_id: str, payload: dict) -> None:
        if connection_id in self.fail_for:
            raise AlertDeliveryError(
                f"Slack webhook post via Connection {connection_id!r} failed: HTTP 500"
            )
        self.calls.append((connection_id, payload))


# --------------------------------------------------------------------------- Block Kit checks

BLOCK_TYPES = {
    "header",
    "section",
    "context",
    "divider",
    "actions",
    "image",
    "rich_text",
}


def assert_block_kit(payload: dict) -> None:
    assert isinstance(payload.get("blocks"), list) and payload["blocks"]
    assert len(payload["blocks"]) <= MAX_BLOCKS
    assert isinstance(payload.get("text"), str) and payload["text"]
    action_ids = []
    for block in payload["blocks"]:
        assert block["type"] in BLOCK_TYPES, block
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= 150
        elif block["type"] == "section":
            assert block["text"]["type"] in {"mrkdwn", "plain_text"}
            assert 0 < len(block["text"]["text"]) <= 3000
            acc = block.get("accessory")
            if acc:
                assert (
                    acc["type"] == "button"
                    and len(acc["text"]["text"]) <= 75
                    and len(acc["url"]) <= 3000
                )
                action_ids.append(acc.get("action_id"))
        elif block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10
            for el in block["elements"]:
                assert el["type"] in {"mrkdwn", "plain_text", "image"}
                assert len(el.get("text", "")) <= 3000
    assert len(action_ids) == len(set(action_ids))


# --------------------------------------------------------------------------- formatting


def test_messages_format_money_ratios_and_links():
    alerts = {a.metric: a for a in build_alerts(DEMO_ROWS[:3], settings())}
    assert set(alerts) == {
        "ctr",
        "spend",
        "roas",
    }  # unflagged and other-day rows aside, one per point

    ctr = alerts["ctr"]
    assert ctr.message == (
        "Northwind Outdoor · Meta · Prospecting - Broad: CTR 0.41% on 2026-11-20, usually 1.52% (robust z -9.3)"
    )
    assert ctr.alert_key == "northwind_us|meta|23850000001|ctr|2026-11-20"
    assert ctr.severity == "critical"  # |z| >= 2 x 3.5
    assert alerts["spend"].message == (
        "Lumen Skincare EU · Google Ads · Search - Brand: Spend €1,234.50 on 2026-11-20, usually €310.00 (robust z +24.9)"
    )
    assert (
        "ROAS 0.90x on 2026-11-20, usually 3.10x (robust z -4.1)"
        in alerts["roas"].message
    )
    assert alerts["roas"].severity == "warning"
    assert ctr.dashboard_link == (
        "http://localhost:3000/dashboard/1?workspace=northwind_us&platform=meta&campaign=23850000001&date=2026-11-20"
    )


def test_link_values_are_url_encoded_and_decimal_inputs_work():
    row = anomaly(
        campaign_id="cmp 1/2&x=y#z",
        metric="cpa",
        value=Decimal("7.5"),
        baseline_median=Decimal(12),
    )
    (a,) = build_alerts([row], settings())
    assert "campaign=cmp%201%2F2%26x%3Dy%23z&" in a.dashboard_link
    assert "CPA $7.50" in a.message and "usually $12.00" in a.message
    # the mrkdwn link keeps the encoded URL and escapes & for Slack
    section = build_slack_payload(settings()["northwind_us"], [a])["blocks"][2]["text"][
        "text"
    ]
    assert (
        "<http://localhost:3000/dashboard/1?workspace=northwind_us&amp;platform=meta&amp;"
        in section
    )
    assert (
        "campaign=cmp%201%2F2%26x%3Dy%23z&amp;date=2026-11-20|Open dashboard>"
        in section
    )


def test_money_formats_per_currency():
    assert format_money(1234.5, "USD") == "$1,234.50"
    assert format_money(12, "EUR") == "€12.00"
    assert format_money(1200, "JPY") == "¥1,200"
    assert format_money(99.5, "SAR") == "99.50 SAR"
    assert (
        format_money(1.2345, "KWD") == "1.234 KWD"
        or format_money(1.2345, "KWD") == "1.235 KWD"
    )


def test_unknown_workspace_still_alerts_and_severity_follows_threshold():
    legacy = {k: v for k, v in anomaly(workspace_id="ghost_ws", robust_z=-5.0).items() if k not in ("source", "severity", "score")}
    rows = [{**legacy, "baseline_median": legacy["baseline"], "is_anomaly": True}]
    (a,) = build_alerts(rows, settings())
    assert a.workspace_name == "ghost_ws" and a.dashboard_link is None
    assert a.severity == "warning"
    (b,) = build_alerts(rows, settings(), threshold=2.5)
    assert b.severity == "critical"


def test_slack_payload_is_block_kit_and_splits_large_batches(wh):
    long_name = "Retargeting — " + "very long campaign name " * 5
    rows = [
        anomaly(
            campaign_id=str(30000000000 + i),
            campaign_name=f"{long_name} <{i}> & co",
            robust_z=-4 - i / 10,
        )
        for i in range(94)
    ]
    rows.append(
        anomaly(campaign_id="30000000094", campaign_name="x" * 5000, robust_z=-3.6)
    )
    alerts = build_alerts(rows, settings(slack="slack_alerts"))
    to_send = record_and_select_new(wh, alerts)
    slack = FakeSlack()
    results = deliver(wh, to_send, settings(slack="slack_alerts"), send_slack=slack)
    assert [r["status"] for r in results] == ["sent"] * 3 and len(slack.calls) == 3
    seen_ids = set()
    for _, payload in slack.calls:
        assert_block_kit(payload)
        sections = " ".join(b["text"]["text"] for b in payload["blocks"][2:])
        assert (
            "> & co" not in sections and "&gt; &amp; co" in sections
        )  # mrkdwn escaped
        for block in payload["blocks"][2:]:
            seen_ids.update(
                c
                for c in (str(30000000000 + i) for i in range(95))
                if c in block["text"]["text"]
            )
    assert len(seen_ids) == 95
    assert "(part 1/3)" in slack.calls[0][1]["blocks"][0]["text"]["text"]
    assert all(
        v == ("sent", "slack:slack_alerts", True) for v in alert_log(wh).values()
    )


# --------------------------------------------------------------------------- dedupe and delivery


def test_run_sends_once_and_rerun_sends_nothing(wh):
    slack = FakeSlack()
    summary = run_alerts(
        wh, DAY, settings(slack="slack_alerts", slack_eu="slack_eu"), send_slack=slack
    )
    assert summary["flagged"] == 3 and summary["to_send"] == 3 and summary["sent"] == 3
    assert summary["workspaces"]["lumen_eu"] == {
        "flagged": 2,
        "critical": 1,
        "to_send": 2,
        "sent": 2,
        "channels": ["slack:slack_eu"],
    }
    assert "CTR 0.41%" in summary["messages"]["northwind_us"]
    json.dumps(summary)  # safe for XCom
    assert len(slack.calls) == 2

    again = run_alerts(
        wh,
        "2026-11-20",
        settings(slack="slack_alerts", slack_eu="slack_eu"),
        send_slack=slack,
    )
    assert again["to_send"] == 0 and again["sent"] == 0 and again["messages"] == {}
    assert len(slack.calls) == 2
    log = alert_log(wh)
    assert len(log) == 3 and all(status == "sent" for status, _, _ in log.values())
    assert (
        "northwind_us|meta|23850000001|ctr|2026-11-19" not in log
    )  # other days are not this run's


def test_a_total_is_not_sent_beside_the_alert_of_the_part_that_moved_it(pg_conn):
    """lumen_eu's Google Ads campaign spikes: its platform total and its workspace total spike too; only the campaign
    is sent, the totals held back pointing at it. Meta's total, which no campaign alert explains, is sent."""
    wh = alerts_warehouse(pg_conn)
    campaign = DEMO_ROWS[1]  # lumen_eu, Google Ads, spend

    def total(platform: str, metric: str = "spend", robust_z: float = 9.5) -> dict:
        row = anomaly(workspace_id="lumen_eu", platform=platform, account_id="all", campaign_id="all", campaign_name="all",
                      currency="EUR", metric=metric, value=5000.0, baseline_median=3000.0, robust_z=robust_z, direction="up")  # fmt: skip
        return {**row, "entity_type": "workspace" if platform == "all" else "platform"}

    insert_anomalies(wh, [campaign, total("google_ads"), total("all"), total("meta", metric="roas")])
    slack = FakeSlack()
    summary = run_alerts(wh, DAY, settings(slack_eu="slack_eu"), send_slack=slack)
    assert summary["sent"] == 2, summary
    with wh.cursor() as cur:
        cur.execute("select alert_key, status, suppressed_by from ops.alert_log")
        log = {k: (status, by) for k, status, by in cur.fetchall()}
    assert log[campaign["alert_key"]] == ("sent", None)
    assert log["lumen_eu|google_ads|all|spend|2026-11-20"] == ("suppressed", campaign["alert_key"])
    assert log["lumen_eu|all|all|spend|2026-11-20"] == ("suppressed", campaign["alert_key"])
    assert log["lumen_eu|meta|all|roas|2026-11-20"] == ("sent", None)
    assert "Search - Brand" in summary["messages"]["lumen_eu"]
    assert "2 alerts open in this workspace" in summary["messages"]["lumen_eu"]  # the held-back totals are no one's to act on


def test_failed_send_stays_pending_and_is_resent_next_run(wh):
    failing = FakeSlack(fail_for={"slack_eu"})
    with pytest.raises(AlertDeliveryError) as err:
        run_alerts(
            wh,
            DAY,
            settings(slack="slack_alerts", slack_eu="slack_eu"),
            send_slack=failing,
        )
    assert "lumen_eu" in str(err.value)
    assert (
        len(failing.calls) == 1 and failing.calls[0][0] == "slack_alerts"
    )  # the other workspace still went out
    statuses = {
        k.split("|")[0] + "|" + k.split("|")[3]: v[0] for k, v in alert_log(wh).items()
    }
    assert statuses == {
        "northwind_us|ctr": "sent",
        "lumen_eu|spend": "pending",
        "lumen_eu|roas": "pending",
    }
    assert {d["workspace_id"]: d["status"] for d in err.value.deliveries} == {
        "lumen_eu": "failed",
        "northwind_us": "sent",
    }

    ok = FakeSlack()
    summary = run_alerts(
        wh, DAY, settings(slack="slack_alerts", slack_eu="slack_eu"), send_slack=ok
    )
    assert [c[0] for c in ok.calls] == ["slack_eu"]
    assert summary["sent"] == 2 and "Spend €1,234.50" in summary["messages"]["lumen_eu"]
    assert all(v[0] == "sent" for v in alert_log(wh).values())
    assert (
        run_alerts(
            wh, DAY, settings(slack="slack_alerts", slack_eu="slack_eu"), send_slack=ok
        )["sent"]
        == 0
    )


def test_crash_between_log_and_send_resends(wh):
    alerts = build_alerts([r for r in DEMO_ROWS if r["date_day"] == DAY], settings())
    assert (
        len(record_and_select_new(wh, alerts)) == 3
    )  # logged, then the task died before sending
    assert len(record_and_select_new(wh, alerts)) == 3  # still pending: selected again
    slack = FakeSlack()
    summary = run_alerts(wh, DAY, settings(slack="s", slack_eu="s"), send_slack=slack)
    assert summary["sent"] == 3 and len(slack.calls) == 2
    assert record_and_select_new(wh, alerts) == []


def test_grouping_one_message_per_workspace_and_log_fallback(wh, caplog):
    caplog.set_level(logging.INFO, logger="ads_elt.alerts")
    slack = FakeSlack()
    summary = run_alerts(
        wh, DAY, settings(slack=None, slack_eu="slack_eu"), send_slack=slack
    )
    # lumen_eu: two alerts, one Slack message holding both
    assert len(slack.calls) == 1
    conn_id, payload = slack.calls[0]
    assert conn_id == "slack_eu"
    assert_block_kit(payload)
    sections = [b for b in payload["blocks"] if b["type"] == "section"]
    assert len(sections) == 2
    assert (
        payload["blocks"][0]["text"]["text"]
        == "Lumen Skincare EU · 2026-11-20 · 2 alerts"
    )
    assert (
        "*Spend €1,234.50* on 2026-11-20 (↑ up), usually €310.00"
        in sections[0]["text"]["text"]
    )
    assert "ROAS 0.90x" in sections[1]["text"]["text"]
    # northwind_us has no Slack connection: one text message in the task log
    logged = [
        r.getMessage()
        for r in caplog.records
        if "Alerts for workspace northwind_us" in r.getMessage()
    ]
    assert len(logged) == 1 and "CTR 0.41% on 2026-11-20, usually 1.52%" in logged[0]
    assert summary["workspaces"]["northwind_us"]["channels"] == ["log"]
    assert alert_log(wh)["northwind_us|meta|23850000001|ctr|2026-11-20"] == (
        "sent",
        "log",
        True,
    )


def test_deliver_sends_only_logged_pending_alerts(wh):
    alerts = build_alerts(DEMO_ROWS, settings(slack="s", slack_eu="s"))
    slack = FakeSlack()
    assert deliver(wh, alerts, settings(slack="s", slack_eu="s"), send_slack=slack) == [
        {
            "workspace_id": ws,
            "channel": "slack:s",
            "status": "nothing_to_send",
            "alerts": 0,
            "alert_keys": [],
            "text": "",
            "error": None,
        }
        for ws in ("lumen_eu", "northwind_us")
    ]
    assert slack.calls == []


def test_missing_mart_is_a_clear_error(pg_conn):
    ensure_schema(pg_conn)
    with pytest.raises(
        AlertSourceMissingError,
        match=r"marts\.mart_alerts does not exist.*dbt build",
    ):
        run_alerts(pg_conn, DAY, settings())


# --------------------------------------------------------------------------- real webhook round trip

TOKEN_PATH = "services/T000/B000/SeCrEtToKeN0042"


class _Recorder(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append(
            {"path": self.path, "headers": dict(self.headers), "body": body}
        )
        status = self.server.status
        reply = b"ok" if status == 200 else b"internal_error"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.requests = []
    server.status = 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/{TOKEN_PATH}"
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_TEST",
        json.dumps({"conn_type": "slackwebhook", "password": url}),
    )
    try:
        yield server, url
    finally:
        server.shutdown()
        server.server_close()


def _assert_no_secret(url: str, caplog, *texts: str) -> None:
    token = TOKEN_PATH.rsplit("/", 1)[1]
    for record in caplog.records:
        message = record.getMessage()
        assert url not in message and token not in message, (record.name, message)
    for text in texts:
        assert url not in text and token not in text


def test_slack_webhook_round_trip(wh, webhook, caplog):
    caplog.set_level(logging.DEBUG)
    server, url = webhook
    summary = run_alerts(wh, DAY, settings(slack="slack_test", slack_eu="slack_test"))
    assert summary["sent"] == 3
    assert len(server.requests) == 2  # one message per workspace
    assert {r["path"] for r in server.requests} == {"/" + TOKEN_PATH}
    bodies = {}
    for r in server.requests:
        assert r["headers"]["Content-Type"].startswith("application/json")
        payload = json.loads(r["body"])
        assert_block_kit(payload)
        bodies[payload["blocks"][0]["text"]["text"]] = payload
    assert set(bodies) == {
        "Northwind Outdoor · 2026-11-20 · 1 alert",
        "Lumen Skincare EU · 2026-11-20 · 2 alerts",
    }
    every_alert = [
        (
            "Northwind Outdoor",
            "Prospecting - Broad",
            "*CTR 0.41%*",
            "campaign=23850000001",
        ),
        (
            "Lumen Skincare EU",
            "Search - Brand",
            "*Spend €1,234.50*",
            "campaign=20000000002",
        ),
        ("Lumen Skincare EU", "Search - Brand", "*ROAS 0.90x*", "campaign=20000000002"),
    ]
    for title_start, campaign, figure, link in every_alert:
        (payload,) = [p for t, p in bodies.items() if t.startswith(title_start)]
        sections = [
            b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"
        ]
        assert any(
            campaign in s and figure in s and link in s and "usually" in s
            for s in sections
        ), figure
    assert all(v == ("sent", "slack:slack_test", True) for v in alert_log(wh).values())
    # the Slack client's own debug record of the request was captured, with the URL removed
    client_records = [
        r.getMessage()
        for r in caplog.records
        if r.name == "ads_elt.alerts.slack_client"
    ]
    assert any("<redacted-url>" in m for m in client_records)
    _assert_no_secret(url, caplog, json.dumps(summary))


def test_failing_webhook_leaves_pending_and_hides_the_url(wh, webhook, caplog):
    caplog.set_level(logging.DEBUG)
    server, url = webhook
    server.status = 500
    with pytest.raises(AlertDeliveryError) as err:
        run_alerts(wh, DAY, settings(slack="slack_test", slack_eu="slack_test"))
    assert len(server.requests) == 2  # every workspace was tried
    assert "500" in str(err.value)
    assert all(v == ("pending", None, False) for v in alert_log(wh).values())
    _assert_no_secret(
        url,
        caplog,
        str(err.value),
        "".join(traceback.format_exception(err.value)),
        json.dumps(err.value.deliveries),
    )

    server.status = 200
    summary = run_alerts(wh, DAY, settings(slack="slack_test", slack_eu="slack_test"))
    assert summary["sent"] == 3 and len(server.requests) == 4


def test_undefined_slack_connection_falls_back_to_the_log(wh, caplog, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_SLACK_NOT_DEFINED", raising=False)
    caplog.set_level(logging.INFO, logger="ads_elt.alerts")
    summary = run_alerts(
        wh, DAY, settings(slack="slack_not_defined", slack_eu="slack_not_defined")
    )
    assert summary["sent"] == 3
    assert {w["channels"][0] for w in summary["workspaces"].values()} == {"log"}
    assert any(
        "'slack_not_defined'" in r.getMessage() and "not defined" in r.getMessage()
        for r in caplog.records
    )
