"""Metabase as code: the warehouse (read-only role), a collection and the workspace dashboard, through Metabase's REST API.

    python -m metabase.provision            # METABASE_URL, METABASE_ADMIN_EMAIL, METABASE_ADMIN_PASSWORD,
                                            # WAREHOUSE_HOST/PORT/DB, METABASE_READER_USER/PASSWORD

Idempotent: each object is looked up by name and created only when missing, changed only when it
differs from metabase/dashboard.yml and metabase/cards/*.sql; a second run sends no write. On a
fresh Metabase it completes the first-run setup with the admin from the environment.
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

HERE = Path(__file__).resolve().parent
CARDS = HERE / "cards"
TAG = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)
NAMESPACE = uuid.UUID("6f1c1d2e-8a57-4c0b-9a1e-a0d0e1f00000")  # filter ids: uuid5 of the slug in this namespace


class MetabaseError(RuntimeError):
    pass


@dataclass(frozen=True)
class Warehouse:
    host: str
    port: int
    dbname: str
    user: str
    password: str


def spec() -> dict[str, Any]:
    return yaml.safe_load((HERE / "dashboard.yml").read_text())


def card_sql(name: str) -> str:
    return (CARDS / f"{name}.sql").read_text()


def tag_id(slug: str) -> str:
    """A stable id per filter, so every run sends the same template tags and parameters."""
    return str(uuid.uuid5(NAMESPACE, slug))


def template_tags(sql: str, filters: list[dict]) -> dict[str, dict]:
    by_slug = {f["slug"]: f for f in filters}
    tags = {}
    for name in dict.fromkeys(TAG.findall(sql)):
        f = by_slug.get(name)
        if f is None:
            raise MetabaseError(f"card SQL uses {{{{{name}}}}}, which metabase/dashboard.yml has no filter for")
        tag = {"id": tag_id(name), "name": name, "display-name": f["name"], "type": f["type"], "required": bool(f.get("required"))}
        if f.get("default") is not None:
            tag["default"] = f["default"]
        tags[name] = tag
    return tags


def render(sql: str, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The card's SQL as Metabase runs it with `values`: optional [[...]] blocks kept only when all their tags have a
    value, every tag a bound parameter (psycopg2 `%(name)s`). A required tag without a value is an error."""

    def optional(m: re.Match) -> str:
        names = TAG.findall(m.group(1))
        return m.group(1) if all(values.get(n) not in (None, "") for n in names) else ""

    text = OPTIONAL.sub(optional, sql.replace("%", "%%"))
    missing = [n for n in TAG.findall(text) if values.get(n) in (None, "")]
    if missing:
        raise MetabaseError(f"no value for required filter(s) {sorted(set(missing))}")
    return TAG.sub(lambda m: f"%({m.group(1)})s", text), {n: values[n] for n in TAG.findall(text)}


def dashboard_parameters(filters: list[dict]) -> list[dict]:
    kinds = {"text": "string/=", "date": "date/single"}
    return [
        {"id": tag_id(f["slug"]), "name": f["name"], "slug": f["slug"], "type": kinds[f["type"]], "sectionId": f["type"] if f["type"] == "date" else "string"}
        | ({"default": f["default"]} if f.get("default") is not None else {})
        for f in filters
    ]


class Metabase:
    def __init__(self, url: str, session: requests.Session | None = None):
        self.url = url.rstrip("/")
        self.http = session or requests.Session()
        self.http.trust_env = False
        self.writes: list[tuple[str, str]] = []

    def call(self, method: str, path: str, body: Any = None) -> Any:
        r = self.http.request(method, f"{self.url}/api{path}", json=body, timeout=60)
        if r.status_code >= 400:
            raise MetabaseError(f"{method} /api{path}: HTTP {r.status_code}: {r.text[:300]}")
        if method != "GET":
            self.writes.append((method, path))
        return r.json() if r.content else None

    def login(self, email: str, password: str) -> None:
        props = self.call("GET", "/session/properties")
        if not props.get("has-user-setup"):
            self.call(
                "POST",
                "/setup",
                {
                    "token": props["setup-token"],
                    "user": {"email": email, "password": password, "first_name": "ads-elt", "last_name": "admin", "site_name": "ads-elt"},
                    "prefs": {"site_name": "ads-elt", "allow_tracking": False},
                },
            )
        session = self.call("POST", "/session", {"username": email, "password": password})
        self.writes.remove(("POST", "/session"))  # logging in changes nothing
        self.http.headers["X-Metabase-Session"] = session["id"]


def _items(listing: Any) -> list[dict]:
    return listing["data"] if isinstance(listing, dict) and "data" in listing else listing


def ensure_database(mb: Metabase, name: str, wh: Warehouse) -> int:
    details = {"host": wh.host, "port": wh.port, "dbname": wh.dbname, "user": wh.user, "ssl": False}
    for db in _items(mb.call("GET", "/database")):
        if db["name"] == name:
            current = {k: db.get("details", {}).get(k) for k in details}
            if current != details:
                mb.call("PUT", f"/database/{db['id']}", {"engine": "postgres", "name": name, "details": {**details, "password": wh.password}})
            return db["id"]
    created = mb.call("POST", "/database", {"engine": "postgres", "name": name, "details": {**details, "password": wh.password}})
    return created["id"]


def ensure_collection(mb: Metabase, name: str) -> int:
    for c in _items(mb.call("GET", "/collection")):
        if c.get("name") == name and not c.get("archived"):
            return c["id"]
    return mb.call("POST", "/collection", {"name": name, "description": "ads-elt: provisioned by metabase/provision.py"})["id"]


def card_body(card: dict, database_id: int, collection_id: int, filters: list[dict]) -> dict:
    sql = card_sql(card["file"])
    return {
        "name": card["name"],
        "collection_id": collection_id,
        "display": card["display"],
        "visualization_settings": card.get("settings") or {},
        "dataset_query": {
            "type": "native",
            "database": database_id,
            "native": {"query": sql, "template-tags": template_tags(sql, filters)},
        },
    }


def _differs(current: dict, wanted: dict) -> bool:
    return any(current.get(k) != v for k, v in wanted.items())


def ensure_cards(mb: Metabase, cards: list[dict], database_id: int, collection_id: int, filters: list[dict]) -> dict[str, int]:
    existing = {(c["name"], c.get("collection_id")): c for c in _items(mb.call("GET", "/card?f=all")) if not c.get("archived")}
    ids = {}
    for card in cards:
        body = card_body(card, database_id, collection_id, filters)
        found = existing.get((card["name"], collection_id))
        if found is None:
            ids[card["file"]] = mb.call("POST", "/card", body)["id"]
            continue
        if _differs(found, body):
            mb.call("PUT", f"/card/{found['id']}", body)
        ids[card["file"]] = found["id"]
    return ids


def dashcards(cards: list[dict], card_ids: dict[str, int], filters: list[dict]) -> list[dict]:
    out = []
    for n, card in enumerate(cards, start=1):
        tags = dict.fromkeys(TAG.findall(card_sql(card["file"])))
        out.append(
            {
                "id": -n,
                "card_id": card_ids[card["file"]],
                "row": card["row"], "col": card["col"], "size_x": card["size_x"], "size_y": card["size_y"],
                "parameter_mappings": [
                    {"parameter_id": tag_id(f["slug"]), "card_id": card_ids[card["file"]], "target": ["variable", ["template-tag", f["slug"]]]}
                    for f in filters
                    if f["slug"] in tags
                ],
            }  # fmt: skip
        )
    return out


def _layout(dashboard: dict) -> list[tuple]:
    """What makes two dashboards' cards the same: card, place, size and filter wiring (not Metabase's own ids)."""
    return sorted(
        (
            d["card_id"], d["row"], d["col"], d["size_x"], d["size_y"],
            tuple(sorted((m["parameter_id"], str(m["target"])) for m in d.get("parameter_mappings") or [])),
        )  # fmt: skip
        for d in dashboard.get("dashcards") or []
    )


def ensure_dashboard(mb: Metabase, s: dict, collection_id: int, card_ids: dict[str, int]) -> int:
    params = dashboard_parameters(s["filters"])
    wanted_cards = dashcards(s["cards"], card_ids, s["filters"])
    found = next(
        (d for d in _items(mb.call("GET", "/dashboard/")) if d["name"] == s["dashboard"]["name"] and d.get("collection_id") == collection_id and not d.get("archived")),
        None,
    )
    if found is None:
        found = mb.call("POST", "/dashboard", {"name": s["dashboard"]["name"], "description": s["dashboard"]["description"], "collection_id": collection_id, "parameters": params})
    current = mb.call("GET", f"/dashboard/{found['id']}")
    if current.get("parameters") != params or _layout(current) != _layout({"dashcards": wanted_cards}) or current.get("description") != s["dashboard"]["description"]:
        mb.call("PUT", f"/dashboard/{found['id']}", {"parameters": params, "description": s["dashboard"]["description"], "dashcards": wanted_cards})
    return found["id"]


def provision(mb: Metabase, wh: Warehouse) -> dict[str, Any]:
    s = spec()
    database_id = ensure_database(mb, s["database"], wh)
    collection_id = ensure_collection(mb, s["collection"])
    card_ids = ensure_cards(mb, s["cards"], database_id, collection_id, s["filters"])
    dashboard_id = ensure_dashboard(mb, s, collection_id, card_ids)
    return {"database": database_id, "collection": collection_id, "cards": card_ids, "dashboard": dashboard_id, "writes": list(mb.writes)}


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if not value:
        raise SystemExit(f"set {name}")
    return value


def main() -> int:
    mb = Metabase(_env("METABASE_URL", "http://localhost:3000"))
    mb.login(_env("METABASE_ADMIN_EMAIL"), _env("METABASE_ADMIN_PASSWORD"))
    wh = Warehouse(
        _env("WAREHOUSE_HOST", "postgres-warehouse"),
        int(_env("WAREHOUSE_PORT", "5432")),
        _env("WAREHOUSE_DB", "warehouse"),
        _env("METABASE_READER_USER"),
        _env("METABASE_READER_PASSWORD"),
    )
    out = provision(mb, wh)
    print(f"Metabase: dashboard {out['dashboard']} in collection {out['collection']}, {len(out['cards'])} cards; {len(out['writes'])} change(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
