"""Metabase as code (metabase/): the provisioning script against the sandbox's fake Metabase API (request shapes
as in the recorded exchange, idempotent, a changed card updated alone), and every card's SQL run on the demo
world's marts as the read-only analyst role with its filters filled in, so a renamed column fails here."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import psycopg2
import pytest

from metabase import provision as mb
from sandbox.metabase import FakeMetabase

REPO = Path(__file__).resolve().parents[1]
EXCHANGE = REPO / "sandbox" / "metabase_exchange.json"
WAREHOUSE = mb.Warehouse("postgres-warehouse", 5432, "warehouse", "metabase_reader", "reader-secret-1")


def shape(value):
    """A request body's shape: keys all the way down, a list by its first item, values by type."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def exchange(fake: FakeMetabase) -> list[dict]:
    return [
        {"method": r["method"], "path": re.sub(r"/\d+", "/:id", r["path"]), "body": shape(r["body"]) if r["body"] is not None else None}
        for r in fake.requests
    ]


@pytest.fixture
def fake():
    server = FakeMetabase()
    url = server.start()
    server.url = url
    yield server
    server.stop()


def run(fake: FakeMetabase, email="metabase-admin@example.com", password="metabase-admin-1") -> dict:
    client = mb.Metabase(fake.url)
    client.login(email, password)
    return mb.provision(client, WAREHOUSE)


def test_a_fresh_metabase_is_set_up_with_the_recorded_requests(fake):
    out = run(fake)
    assert exchange(fake) == json.loads(EXCHANGE.read_text())
    spec = mb.spec()
    (db,) = fake.databases.values()
    assert db["engine"] == "postgres" and db["details"]["user"] == "metabase_reader" and db["details"]["password"] == "reader-secret-1"
    cards = {c["name"]: c for c in fake.cards.values()}
    assert set(cards) == {c["name"] for c in spec["cards"]}
    assert all(c["collection_id"] == out["collection"] and c["dataset_query"]["database"] == db["id"] for c in cards.values())
    (dashboard,) = fake.dashboards.values()
    assert {p["slug"] for p in dashboard["parameters"]} == {"workspace", "platform", "campaign", "date_from", "date_to"}
    assert len(dashboard["dashcards"]) == len(spec["cards"])
    for dashcard in dashboard["dashcards"]:  # every filter a card's SQL uses is wired to it, and only those
        sql = fake.cards[dashcard["card_id"]]["dataset_query"]["native"]["query"]
        wired = {m["target"][1][1] for m in dashcard["parameter_mappings"]}
        assert wired == set(mb.TAG.findall(sql)) and "workspace" in wired


def test_a_second_run_changes_nothing_and_a_changed_card_is_updated_alone(fake, monkeypatch, tmp_path):
    first = run(fake)
    assert len(first["writes"]) > 8
    second = run(fake)
    assert second["writes"] == [] and second["cards"] == first["cards"] and second["dashboard"] == first["dashboard"]
    cards = tmp_path / "cards"
    cards.mkdir()
    for sql in mb.CARDS.glob("*.sql"):
        (cards / sql.name).write_text(sql.read_text())
    (cards / "alerts.sql").write_text(mb.card_sql("alerts").replace("order by date_day desc", "order by date_day"))
    monkeypatch.setattr(mb, "CARDS", cards)
    third = run(fake)
    assert third["writes"] == [("PUT", f"/card/{first['cards']['alerts']}")]


def test_a_filter_a_card_needs_but_the_dashboard_lacks_is_named():
    with pytest.raises(mb.MetabaseError, match=r"\{\{account\}\}"):
        mb.template_tags("select 1 where a = {{account}}", mb.spec()["filters"])


@pytest.mark.xdist_group("demo")
@pytest.mark.e2e
def test_every_cards_sql_runs_on_the_demo_marts_as_the_analyst(reporting_api, demo):
    from e2e_worlds import REPORT_DATE
    from stack import role_password

    server = demo.stack.pg_server
    conn = psycopg2.connect(
        host="127.0.0.1", port=server.port, dbname=reporting_api.dbname, user="ads_analyst", password=role_password(server.password, "analyst")
    )
    (campaign,) = reporting_api.query(
        "select campaign_id from marts.mart_alerts where workspace_id = 'northwind_us' and platform = 'meta' and entity_type = 'campaign' limit 1"
    )[0]
    everything = {"workspace": "northwind_us", "platform": "meta", "campaign": campaign,
                  "date_from": REPORT_DATE - timedelta(days=27), "date_to": REPORT_DATE}  # fmt: skip
    try:
        with conn.cursor() as cur:
            for card in mb.spec()["cards"]:
                sql = mb.card_sql(card["file"])
                for values in ({"workspace": "northwind_us"}, everything):
                    query, params = mb.render(sql, values)
                    cur.execute(query, params)
                    rows = cur.fetchall()
                    if values is not everything:
                        assert rows, (card["file"], values)  # the demo workspace has data for every card
                    else:
                        names = [d.name for d in cur.description]
                        if "platform" in names:
                            assert {r[names.index("platform")] for r in rows} == {"meta"}, card["file"]
    finally:
        conn.close()
    with pytest.raises(mb.MetabaseError, match="workspace"):
        mb.render(mb.card_sql("alerts"), {})
