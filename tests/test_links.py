"""Signed, expiring dashboard links (ads_elt.alerts.links) and the digests that carry them and their chart."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from test_alerts import FakeSlack, alerts_warehouse, anomaly, insert_anomalies, settings

from ads_elt.alerts import Alert, WorkspaceAlertSettings, build_slack_payload, links, run_alerts
from ads_elt.alerts.notify_teams import build_card

KEY = b"k" * 32
DAY = "2026-11-20"


def test_a_signed_link_opens_its_workspace_until_it_expires():
    url = links.sign_url("http://x/dashboard/northwind_us/campaigns/meta/1?date=2026-11-20", KEY, "northwind_us", ttl_days=1, now=1000)
    q = parse_qs(urlsplit(url).query)
    assert q["date"] == ["2026-11-20"] and q["exp"] == [str(1000 + 86400)]
    assert links.verify(KEY, "northwind_us", q["exp"][0], q["sig"][0], now=1000) is None
    assert links.verify(KEY, "northwind_us", q["exp"][0], q["sig"][0], now=1000 + 86401) == "expired"
    assert links.verify(KEY, "lumen_eu", q["exp"][0], q["sig"][0], now=1000) == "forged"  # another workspace
    assert links.verify(KEY, "northwind_us", str(int(q["exp"][0]) + 86400), q["sig"][0], now=1000) == "forged"  # a later expiry
    assert links.verify(b"other key", "northwind_us", q["exp"][0], q["sig"][0], now=1000) == "forged"
    assert links.verify(KEY, "northwind_us", None, None) == "unsigned"
    assert links.verify(KEY, "northwind_us", "soon", q["sig"][0]) == "forged"
    again = links.sign_url(url, KEY, "northwind_us", ttl_days=2, now=1000)  # re-signing replaces, never appends
    assert len(parse_qs(urlsplit(again).query)["sig"]) == 1


def test_signatures_are_cut_from_text_meant_for_logs():
    url = links.sign_url("http://x/dashboard/w?date=1", KEY, "w")
    sig = parse_qs(urlsplit(url).query)["sig"][0]
    text = f"Open dashboard {url} and <{url.replace('&', '&amp;')}|here>"
    cut = links.without_signatures(text)
    assert sig not in cut and cut.count("sig=<redacted>") == 2


def alert(link: str | None) -> Alert:
    return Alert(
        "k", "northwind_us", "Northwind", "meta", "1", "23850000001", "Prospecting", "ctr", __import__("datetime").date(2026, 11, 20),
        "USD", 0.004, 0.015, 0.001, -9.0, 28, "down", "critical", "CTR fell", dashboard_link=link,
    )  # fmt: skip


def test_webhook_slack_and_teams_show_the_digest_chart_from_its_signed_url():
    ws = WorkspaceAlertSettings("northwind_us", "Northwind", chart_url="https://reports.example/charts/abc.png?exp=1&sig=00")
    blocks = build_slack_payload(ws, [alert(None)])["blocks"]
    assert {"type": "image", "image_url": ws.chart_url} == {k: blocks[-1][k] for k in ("type", "image_url")}
    body = build_card(ws, [alert(None)])["attachments"][0]["content"]["body"]
    assert any(b.get("type") == "Image" and b["url"] == ws.chart_url for b in body)
    plain = WorkspaceAlertSettings("northwind_us", "Northwind")
    assert all(b["type"] != "image" for b in build_slack_payload(plain, [alert(None)])["blocks"])


@pytest.fixture
def wh(pg_conn):
    return alerts_warehouse(pg_conn)


def test_the_alerts_step_signs_each_dashboard_link_and_serves_the_chart_by_signed_url(wh, monkeypatch, tmp_path):
    monkeypatch.setenv(
        "AIRFLOW_CONN_REPORTING_API", json.dumps({"conn_type": "http", "host": "https://reports.example", "password": KEY.decode()})
    )
    insert_anomalies(wh, [anomaly()])
    slack = FakeSlack()
    chart = tmp_path / "digest.png"
    chart.write_bytes(b"\x89PNG")
    summary = run_alerts(wh, DAY, settings("slack_alerts"), send_slack=slack, chart_for=lambda ws, alerts, part: Path(chart))
    (_, payload), = slack.calls
    text = json.dumps(payload)
    link = next(u for u in text.replace("\\u0026", "&").split('"') if "/dashboard/1?" in u).split("|")[0].strip("<")
    q = parse_qs(urlsplit(link.replace("&amp;", "&")).query)
    assert links.verify(KEY, "northwind_us", q["exp"][0], q["sig"][0]) is None
    assert int(q["exp"][0]) > time.time() + 13 * 86400
    image = payload["blocks"][-1]
    assert image["type"] == "image" and image["image_url"].startswith("https://reports.example/charts/")
    iq = parse_qs(urlsplit(image["image_url"]).query)
    assert links.verify(KEY, "northwind_us", iq["exp"][0], iq["sig"][0]) is None
    assert q["sig"][0] not in json.dumps(summary)  # the XCom summary keeps no signature
