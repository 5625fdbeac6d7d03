"""Alert delivery: Slack Block Kit (schema-checked on a recording webhook), the chart (PNG,
uploaded with a bot token through a stand-in for slack.com), Teams (Adaptive Card on a
recording webhook), email (a local SMTP server), suppression, reruns and grouping."""

from __future__ import annotations

import json
import socketserver
import threading
from datetime import date, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest
from test_alerts import alert_log, alerts_warehouse, anomaly, insert_anomalies, settings

from ads_elt.alerts import WorkspaceAlertSettings, run_alerts

DAY = date(2026, 11, 20)
DASHBOARD = "http://localhost:3000/dashboard/1?workspace={workspace_id}&platform={platform}&campaign={campaign_id}&date={date}"

# Block Kit, as far as these messages use it (https://api.slack.com/reference/block-kit): limits included.
TEXT_OBJECT = {
    "type": "object",
    "required": ["type", "text"],
    "properties": {"type": {"enum": ["plain_text", "mrkdwn"]}, "text": {"type": "string", "minLength": 1, "maxLength": 3000}, "emoji": {"type": "boolean"}},
    "additionalProperties": False,
}
BLOCK_KIT_MESSAGE = {
    "type": "object",
    "required": ["blocks", "text"],
    "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": 40000},
        "blocks": {
            "type": "array",
            "minItems": 1,
            "maxItems": 50,
            "items": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["type", "text"],
                        "properties": {
                            "type": {"const": "header"},
                            "text": {
                                "type": "object",
                                "required": ["type", "text"],
                                "properties": {"type": {"const": "plain_text"}, "text": {"type": "string", "minLength": 1, "maxLength": 150}, "emoji": {"type": "boolean"}},
                                "additionalProperties": False,
                            },
                            "block_id": {"type": "string", "maxLength": 255},
                        },
                        "additionalProperties": False,
                    },
                    {
                        "type": "object",
                        "required": ["type", "text"],
                        "properties": {"type": {"const": "section"}, "text": TEXT_OBJECT, "block_id": {"type": "string", "maxLength": 255}},
                        "additionalProperties": False,
                    },
                    {
                        "type": "object",
                        "required": ["type", "elements"],
                        "properties": {"type": {"const": "context"}, "elements": {"type": "array", "minItems": 1, "maxItems": 10, "items": TEXT_OBJECT}},
                        "additionalProperties": False,
                    },
                ]
            },
        },
    },
}


class _Recorder(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        reply = self.server.reply(self.path, body)
        data = json.dumps(reply).encode() if isinstance(reply, dict) else reply
        self.send_response(200)
        self.send_header("Content-Type", "application/json" if isinstance(reply, dict) else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    servers = []

    def start(reply=lambda path, body: b"ok"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        server.requests = []
        server.reply = reply
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to receive a message: EHLO, MAIL, RCPT, DATA, QUIT."""

    def handle(self):
        self.wfile.write(b"220 localhost test smtp\r\n")
        envelope = {"from": None, "to": [], "data": b""}
        while line := self.rfile.readline():
            cmd = line.strip().upper()
            if cmd.startswith((b"EHLO", b"HELO")):
                self.wfile.write(b"250 localhost\r\n")
            elif cmd.startswith(b"MAIL FROM"):
                envelope["from"] = line.split(b":", 1)[1].strip()
                self.wfile.write(b"250 OK\r\n")
            elif cmd.startswith(b"RCPT TO"):
                envelope["to"].append(line.split(b":", 1)[1].strip())
                self.wfile.write(b"250 OK\r\n")
            elif cmd == b"DATA":
                self.wfile.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                chunks = []
                while (data_line := self.rfile.readline()) not in (b".\r\n", b""):
                    chunks.append(data_line[1:] if data_line.startswith(b"..") else data_line)
                envelope["data"] = b"".join(chunks)
                self.server.messages.append(dict(envelope))
                self.wfile.write(b"250 OK queued\r\n")
            elif cmd == b"QUIT":
                self.wfile.write(b"221 Bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.daemon_threads = True
    server.messages = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def wh(pg_conn):
    return alerts_warehouse(pg_conn)


def add_series(conn, campaign_id="23850000001", metric="ctr", end=DAY, days=60):
    """A mart_anomalies history for the chart: a steady series and the alert day's collapse."""
    with conn.cursor() as cur:
        cur.execute(
            """
            create table if not exists marts.mart_anomalies (
                date_day date, workspace_id text, platform text, campaign_id text, metric text,
                value double precision, baseline_median double precision, robust_sigma double precision,
                z_threshold double precision)
            """
        )
        for k in range(days):
            day = end - timedelta(days=k)
            value = 0.0041 if day == end else 0.015 + 0.0005 * ((k * 7) % 5 - 2)
            cur.execute(
                "insert into marts.mart_anomalies values (%s, 'northwind_us', 'meta', %s, %s, %s, 0.015, 0.0009, 3.5)",
                (day, campaign_id, metric, value),
            )
    conn.commit()


def test_slack_digest_is_valid_block_kit_on_the_wire_one_message_per_workspace(wh, http_server, monkeypatch, tmp_path):
    monkeypatch.setenv("ADS_ELT_ALERT_ARTIFACTS", str(tmp_path / "alerts"))
    server = http_server()
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_WIRE",
        json.dumps({"conn_type": "slackwebhook", "password": f"http://127.0.0.1:{server.server_port}/services/T1/B1/x"}),
    )
    rows = [anomaly(campaign_id=str(100 + i), metric=m, robust_z=-5 - i) for i in range(4) for m in ("ctr", "roas")]
    rows.append({**anomaly(campaign_id="200", metric="roas"), "robust_z": None, "source": "rule", "signal": "roas_below_floor",
                 "rule_id": "roas_below_floor", "score": 1.6, "severity": "warning",
                 "explanation": "ROAS under floor: ROAS 1.25x is under the 2.00x floor (spend 310.00 USD)",
                 "alert_key": f"northwind_us|meta|200|roas_below_floor|{DAY}"})
    rows.append(anomaly(workspace_id="lumen_eu", campaign_id="300", metric="spend", robust_z=9.0, direction="up"))
    insert_anomalies(wh, rows)
    summary = run_alerts(wh, DAY, settings(slack="slack_wire", slack_eu="slack_wire"))
    assert summary["sent"] == 10
    assert len(server.requests) == 2  # grouped: one message per workspace, not ten
    for request in server.requests:
        payload = json.loads(request["body"])
        jsonschema.validate(payload, BLOCK_KIT_MESSAGE)
    northwind = next(json.loads(r["body"]) for r in server.requests if b"Northwind" in r["body"])
    texts = " ".join(b["text"]["text"] for b in northwind["blocks"] if b["type"] == "section")
    assert "ROAS 1.25x is under the 2.00x floor" in texts and "rule `roas_below_floor`" in texts
    assert "usually" in texts and "Open dashboard" in texts
    # A rerun sends nothing.
    again = run_alerts(wh, DAY, settings(slack="slack_wire", slack_eu="slack_wire"))
    assert again["sent"] == 0 and len(server.requests) == 2


def test_chart_is_rendered_saved_beside_the_log_and_uploaded_with_the_bot_token(wh, http_server, monkeypatch, tmp_path):
    artifacts = tmp_path / "alerts"
    monkeypatch.setenv("ADS_ELT_ALERT_ARTIFACTS", str(artifacts))
    hook = http_server()
    upload_port = {}

    def slack_api(path, body):
        if path.endswith("files.getUploadURLExternal"):
            return {"ok": True, "upload_url": f"http://127.0.0.1:{upload_port['port']}/upload/F1", "file_id": "F1"}
        if path.startswith("/upload/"):
            return b"OK - 1234"
        if path.endswith("files.completeUploadExternal"):
            return {"ok": True, "files": [{"id": "F1", "title": "chart"}]}
        return {"ok": False, "error": "unknown_method"}

    api = http_server(slack_api)
    upload_port["port"] = api.server_port
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_HOOK", json.dumps({"conn_type": "slackwebhook", "password": f"http://127.0.0.1:{hook.server_port}/services/T/B/y"}))
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_BOT",
        json.dumps({"conn_type": "slack", "password": "xoxb-test-token-0042", "extra": {"base_url": f"http://127.0.0.1:{api.server_port}/api/"}}),
    )
    add_series(wh)
    insert_anomalies(wh, [anomaly()])
    ws = {"northwind_us": WorkspaceAlertSettings("northwind_us", "Northwind Outdoor", DASHBOARD, "slack_hook", "slack_bot", "C0ALERTS")}
    summary = run_alerts(wh, DAY, ws)
    assert summary["sent"] == 1
    png = artifacts / DAY.isoformat() / "northwind_us-part1.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with wh.cursor() as cur:
        cur.execute("select chart_path from ops.alert_log")
        assert cur.fetchone()[0] == str(png)
    paths = [r["path"] for r in api.requests]
    assert any(p.endswith("files.getUploadURLExternal") for p in paths)
    assert "/upload/F1" in paths
    complete = next(r for r in api.requests if r["path"].endswith("files.completeUploadExternal"))
    assert b"C0ALERTS" in complete["body"]
    assert all("xoxb-test-token-0042" in r["headers"].get("Authorization", "") for r in api.requests if "/api/" in r["path"])
    uploaded = next(r for r in api.requests if r["path"] == "/upload/F1")["body"]
    assert b"\x89PNG" in uploaded


def test_chart_without_bot_token_is_only_saved(wh, http_server, monkeypatch, tmp_path):
    monkeypatch.setenv("ADS_ELT_ALERT_ARTIFACTS", str(tmp_path / "alerts"))
    add_series(wh)
    insert_anomalies(wh, [anomaly()])
    run_alerts(wh, DAY, settings())  # no channel at all: the task log
    assert (tmp_path / "alerts" / DAY.isoformat() / "northwind_us-part1.png").exists()
    assert alert_log(wh)[f"northwind_us|meta|23850000001|ctr|{DAY}"][:2] == ("sent", "log")


def test_teams_gets_an_adaptive_card(wh, http_server, monkeypatch, tmp_path):
    monkeypatch.setenv("ADS_ELT_ALERT_ARTIFACTS", str(tmp_path / "alerts"))
    server = http_server(lambda path, body: b"1")
    monkeypatch.setenv("AIRFLOW_CONN_TEAMS_ALERTS", json.dumps({"conn_type": "http", "password": f"http://127.0.0.1:{server.server_port}/webhookb2/abc"}))
    insert_anomalies(wh, [anomaly(), anomaly(metric="roas", robust_z=-4.0, value=0.9, baseline_median=3.1)])
    ws = {"northwind_us": WorkspaceAlertSettings("northwind_us", "Northwind Outdoor", DASHBOARD, teams_connection="teams_alerts")}
    summary = run_alerts(wh, DAY, ws)
    assert summary["sent"] == 2 and summary["workspaces"]["northwind_us"]["channels"] == ["teams:teams_alerts"]
    (request,) = server.requests
    payload = json.loads(request["body"])
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4" and card["$schema"].startswith("http://adaptivecards.io")
    assert card["body"][0]["text"] == "Northwind Outdoor · 2026-11-20 · 2 alerts"
    text = json.dumps(card)
    assert "CTR 0.41%" in text and "ROAS 0.90x" in text and "Usually" in text
    assert card["actions"][0]["type"] == "Action.OpenUrl" and "campaign=23850000001" in card["actions"][0]["url"]


def test_email_goes_out_over_smtp(wh, smtp_server, monkeypatch, tmp_path):
    monkeypatch.setenv("ADS_ELT_ALERT_ARTIFACTS", str(tmp_path / "alerts"))
    host, port = smtp_server.server_address
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_ALERTS", json.dumps({"conn_type": "smtp", "host": host, "port": port, "extra": {"from_email": "alerts@ads.example"}}))
    add_series(wh)
    insert_anomalies(wh, [anomaly()])
    ws = {"northwind_us": WorkspaceAlertSettings("northwind_us", "Northwind Outdoor", DASHBOARD, email_connection="smtp_alerts", email_to=("ops@northwind.example", "cmo@northwind.example"))}
    summary = run_alerts(wh, DAY, ws)
    assert summary["sent"] == 1
    (message,) = smtp_server.messages
    assert message["from"] == b"<alerts@ads.example>"
    assert message["to"] == [b"<ops@northwind.example>", b"<cmo@northwind.example>"]
    mail = message_from_bytes(message["data"], policy=policy.default)
    assert mail["Subject"] == "Northwind Outdoor · 2026-11-20 · 1 alert"
    parts = {p.get_content_type(): p for p in mail.walk()}
    assert "CTR 0.41% on 2026-11-20, usually 1.52%" in parts["text/plain"].get_payload(decode=True).decode()
    assert "Open dashboard" in parts["text/html"].get_payload(decode=True).decode()
    assert parts["image/png"].get_payload(decode=True)[:4] == b"\x89PNG"


def test_a_failing_channel_does_not_make_the_others_repeat(wh, http_server, smtp_server, monkeypatch, tmp_path):
    monkeypatch.setenv("ADS_ELT_ALERT_ARTIFACTS", str(tmp_path / "alerts"))
    teams = http_server(lambda path, body: b"1")
    monkeypatch.setenv("AIRFLOW_CONN_TEAMS_ALERTS", json.dumps({"conn_type": "http", "password": f"http://127.0.0.1:{teams.server_port}/hook"}))
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DOWN", json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": 1}))
    insert_anomalies(wh, [anomaly()])
    ws = {"northwind_us": WorkspaceAlertSettings("northwind_us", "Northwind Outdoor", DASHBOARD, teams_connection="teams_alerts", email_connection="smtp_down", email_to=("a@b.example",))}
    from ads_elt.alerts import AlertDeliveryError

    with pytest.raises(AlertDeliveryError, match="email:smtp_down"):
        run_alerts(wh, DAY, ws)
    assert len(teams.requests) == 1
    assert alert_log(wh)[f"northwind_us|meta|23850000001|ctr|{DAY}"][0] == "pending"
    host, port = smtp_server.server_address
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DOWN", json.dumps({"conn_type": "smtp", "host": host, "port": port}))
    summary = run_alerts(wh, DAY, ws)
    assert summary["sent"] == 1 and len(smtp_server.messages) == 1
    assert len(teams.requests) == 1  # Teams already had it: not sent twice


def _day_alert(day, z, severity=None):
    row = anomaly(day=day, robust_z=z)
    if severity:
        row["severity"] = severity
    return row


def test_suppression_holds_repeats_but_a_worsening_anomaly_re_alerts(wh, monkeypatch, tmp_path):
    monkeypatch.setenv("ADS_ELT_ALERT_ARTIFACTS", str(tmp_path / "alerts"))
    sent = []
    ws = {"northwind_us": WorkspaceAlertSettings("northwind_us", "Northwind Outdoor", DASHBOARD, "slack_x", suppress_days=3, worsen_margin=0.1)}

    def run(day):
        return run_alerts(wh, day, ws, send_slack=lambda conn_id, payload: sent.append(payload))

    d1, d2, d3, d4, d5 = (DAY + timedelta(days=k) for k in range(5))
    insert_anomalies(wh, [_day_alert(d1, -5.0), _day_alert(d2, -5.2), _day_alert(d3, -6.0), _day_alert(d4, -6.1), _day_alert(d5, -6.2)])
    assert run(d1)["sent"] == 1
    assert run(d2)["sent"] == 0  # same entity and metric, within 3 days, not worse (5.2 < 5.0 x 1.1)
    assert run(d3)["sent"] == 1  # worse: 6.0 > 5.0 x 1.1
    assert run(d4)["sent"] == 0
    assert run(d4)["sent"] == 0  # a rerun sends nothing
    log = alert_log(wh)
    key = "northwind_us|meta|23850000001|ctr|{}"
    assert [log[key.format(d)][0] for d in (d1, d2, d3, d4)] == ["sent", "suppressed", "sent", "suppressed"]
    with wh.cursor() as cur:
        cur.execute("select suppressed_by from ops.alert_log where alert_key = %s", (key.format(d2),))
        assert cur.fetchone()[0] == key.format(d1)
    # Past the interval the condition is repeated even if not worse.
    d8 = DAY + timedelta(days=6)
    insert_anomalies(wh, [_day_alert(d8, -6.0)])
    assert run(d8)["sent"] == 1
    assert len(sent) == 3


def _pacing_alert(day, score):
    """A budget_pacing alert: projected month-end spend `score` x (the threshold x the monthly budget)."""
    row = anomaly(day=day, metric="spend", value=1000.0 * score, robust_z=0.0, direction="up")
    key = f"northwind_us|meta|23850000001|budget_pacing|{day}"
    return {**row, "alert_key": key, "source": "rule", "signal": "budget_pacing", "rule_id": "budget_pacing", "score": score, "severity": "warning"}


def test_budget_pacing_repeats_within_its_month_only_when_the_projection_is_worse(wh, monkeypatch, tmp_path):
    """The month stays over plan for days after a spike's spend entered it: one pacing alert a campaign and month."""
    monkeypatch.setenv("ADS_ELT_ALERT_ARTIFACTS", str(tmp_path / "alerts"))
    ws = {"northwind_us": WorkspaceAlertSettings("northwind_us", "Northwind Outdoor", DASHBOARD, suppress_days=3, worsen_margin=0.1)}
    nov3, nov13, nov20, dec2 = date(2026, 11, 3), date(2026, 11, 13), date(2026, 11, 20), date(2026, 12, 2)
    insert_anomalies(wh, [_pacing_alert(nov3, 1.4), _pacing_alert(nov13, 1.2), _pacing_alert(nov20, 1.6), _pacing_alert(dec2, 1.1)])
    sent = [run_alerts(wh, d, ws)["sent"] for d in (nov3, nov13, nov20, dec2)]
    assert sent == [1, 0, 1, 1]  # 10 days on, past suppress_days, but in the month and not worse; then worse; a new month
    log = alert_log(wh)
    assert log[f"northwind_us|meta|23850000001|budget_pacing|{nov13}"][0] == "suppressed"
    # Any other signal is repeated once suppress_days have passed, as before.
    insert_anomalies(wh, [_day_alert(nov3, -6.0), _day_alert(nov13, -6.0)])
    assert [run_alerts(wh, d, ws)["sent"] for d in (nov3, nov13)] == [1, 1]


def test_severity_escalation_re_alerts(wh, monkeypatch, tmp_path):
    monkeypatch.setenv("ADS_ELT_ALERT_ARTIFACTS", str(tmp_path / "alerts"))
    ws = {"northwind_us": WorkspaceAlertSettings("northwind_us", "Northwind Outdoor", DASHBOARD, suppress_days=3, worsen_margin=5.0)}
    d1, d2 = DAY, DAY + timedelta(days=1)
    insert_anomalies(wh, [_day_alert(d1, -4.0), _day_alert(d2, -7.5)])
    assert run_alerts(wh, d1, ws)["sent"] == 1
    assert run_alerts(wh, d2, ws)["sent"] == 1  # warning -> critical


def test_channels_come_from_the_registry(tmp_path):
    import yaml

    from ads_elt.alerts import settings_from_registry
    from ads_elt.registry import RegistryError, load_registry

    data = yaml.safe_load(Path(__file__).resolve().parents[1].joinpath("config", "workspaces.yml").read_text())
    northwind = next(w for w in data["workspaces"] if w["id"] == "northwind_us")
    northwind.update(
        yaml.safe_load(
            """
alerts:
  slack_connection: slack_alerts
  slack_bot_connection: slack_bot
  slack_channel: C0ALERTS
  teams_connection: teams_alerts
  email_connection: smtp_alerts
  email_to: [ops@northwind.example]
  suppress_days: 5
anomalies:
  window_days: 21
  z_threshold: 4.0
  metrics: [spend, roas]
rules:
  acos_above: {enabled: false}
  roas_below_floor: {threshold: 1.5}
budget:
  monthly: 150000
  max_shift_share: 0.1
  campaigns:
    - {platform: google_ads, campaign_id: "20000000002", monthly: 20000}
"""
        )
    )
    path = tmp_path / "workspaces.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    registry = load_registry(path)
    ws = settings_from_registry(registry)["northwind_us"]
    assert ws.channels() == ["slack:slack_alerts", "teams:teams_alerts", "email:smtp_alerts"]
    assert (ws.slack_bot_connection, ws.slack_channel, ws.suppress_days) == ("slack_bot", "C0ALERTS", 5)
    mirrored = registry.workspace("northwind_us").alerting.settings()
    assert mirrored["anomaly_window_days"] == "21" and mirrored["anomaly_metrics"] == "spend,roas"
    assert mirrored["rule.acos_above.enabled"] == "false" and mirrored["rule.roas_below_floor.threshold"] == "1.5"
    assert mirrored["budget_monthly"] == "150000" and mirrored["budget_max_shift_share"] == "0.1"
    northwind["anomalies"]["metrics"] = ["spend", "clicks"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(RegistryError, match=r"workspaces\[0\]\.anomalies\.metrics"):
        load_registry(path)
