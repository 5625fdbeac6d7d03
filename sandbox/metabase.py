"""A fake Metabase REST API (the endpoints metabase/provision.py uses), in memory, recording every request.

Shapes follow Metabase's API (v0.56): `/api/session/properties` (`has-user-setup`, `setup-token`),
`/api/setup`, `/api/session` (`{"id": <session>}`, sent back as `X-Metabase-Session`), `/api/database`
(`{"data": [...]}`, the password shown as `**MetabasePass**`), `/api/collection` (a list, with the root
collection), `/api/card` (`?f=all` lists), `/api/dashboard` (a `PUT` with `dashcards` replaces the cards;
new ones have negative ids and get real ones).
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REDACTED = "**MetabasePass**"


class FakeMetabase:
    def __init__(self, admin_email: str = "admin@example.com", admin_password: str = "metabase-admin-1"):
        self.admin = (admin_email, admin_password)
        self.setup_token = secrets.token_hex(16)
        self.user_set_up = False
        self.sessions: set[str] = set()
        self.requests: list[dict[str, Any]] = []
        self.databases: dict[int, dict] = {}
        self.collections: dict[int, dict] = {}
        self.cards: dict[int, dict] = {}
        self.dashboards: dict[int, dict] = {}
        self._ids = iter(range(1, 10**6))
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                status, out = fake.handle(method, self.path, body, self.headers.get("X-Metabase-Session"))
                self._send(status, out)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_PUT(self):
                self._handle("PUT")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # -- the API -------------------------------------------------------------------------------
    def handle(self, method: str, path: str, body: Any, session: str | None) -> tuple[int, Any]:
        with self._lock:
            self.requests.append({"method": method, "path": path, "body": copy.deepcopy(body)})
            route = path.split("?")[0].rstrip("/")
            if route == "/api/session/properties" and method == "GET":
                return 200, {"has-user-setup": self.user_set_up, "setup-token": None if self.user_set_up else self.setup_token, "version": {"tag": "v0.56.4"}}
            if route == "/api/setup" and method == "POST":
                if self.user_set_up or body.get("token") != self.setup_token:
                    return 403, {"message": "setup is done or the token is wrong"}
                self.admin = (body["user"]["email"], body["user"]["password"])
                self.user_set_up = True
                return 200, {"id": self._session()}
            if route == "/api/session" and method == "POST":
                if (body.get("username"), body.get("password")) != self.admin:
                    return 401, {"errors": {"password": "did not match stored password"}}
                return 200, {"id": self._session()}
            if session not in self.sessions:
                return 401, "Unauthenticated"
            return self._resource(method, route, body)

    def _session(self) -> str:
        token = str(secrets.token_hex(18))
        self.sessions.add(token)
        return token

    def _resource(self, method: str, route: str, body: Any) -> tuple[int, Any]:
        m = re.fullmatch(r"/api/(database|collection|card|dashboard)(?:/(\d+))?", route)
        if not m:
            return 404, {"message": f"no route {route}"}
        kind, ident = m.group(1), int(m.group(2)) if m.group(2) else None
        store = {"database": self.databases, "collection": self.collections, "card": self.cards, "dashboard": self.dashboards}[kind]
        if method == "GET" and ident is None:
            items = [self._shown(kind, v) for v in store.values()]
            if kind == "database":
                return 200, {"data": items, "total": len(items)}
            if kind == "collection":
                return 200, [{"id": "root", "name": "Our analytics"}, *items]
            return 200, items
        if method == "GET":
            return (200, self._shown(kind, store[ident])) if ident in store else (404, "Not found.")
        if method == "POST" and ident is None:
            new_id = next(self._ids)
            store[new_id] = {"id": new_id, "archived": False, **copy.deepcopy(body)}
            if kind == "dashboard":
                store[new_id].setdefault("dashcards", [])
            return 200, self._shown(kind, store[new_id])
        if method == "PUT" and ident in store:
            item = store[ident]
            update = copy.deepcopy(body)
            if kind == "dashboard" and "dashcards" in update:
                update["dashcards"] = [{**d, "id": d["id"] if d["id"] > 0 else next(self._ids), "dashboard_id": ident} for d in update["dashcards"]]
            if kind == "database" and update.get("details", {}).get("password") == REDACTED:
                update["details"]["password"] = item["details"]["password"]
            item.update(update)
            return 200, self._shown(kind, item)
        return 404, "Not found."

    def _shown(self, kind: str, item: dict) -> dict:
        out = copy.deepcopy(item)
        if kind == "database" and "details" in out:
            out["details"]["password"] = REDACTED
        return out

    def writes(self) -> list[tuple[str, str]]:
        return [(r["method"], r["path"]) for r in self.requests if r["method"] != "GET" and r["path"] != "/api/session"]
