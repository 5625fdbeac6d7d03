"""API tokens (hashed in `ops.api_tokens`) and a per-token rate limit."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

TOKEN_PREFIX = "ads_"


@dataclass(frozen=True)
class Principal:
    token_id: str
    workspace_id: str | None  # None: admin, every workspace

    def may_see(self, workspace_id: str) -> bool:
        return self.workspace_id is None or self.workspace_id == workspace_id


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(conn, workspace_id: str | None, label: str | None = None) -> tuple[str, str]:
    """A new token for one workspace (or every one when None): returns (token_id, token); only its hash is kept."""
    token_id = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    with conn.cursor() as cur:
        if workspace_id is not None:
            cur.execute("select 1 from ops.workspace_accounts where workspace_id = %s limit 1", (workspace_id,))
            if cur.fetchone() is None:
                raise LookupError(f"no workspace {workspace_id!r} in ops.workspace_accounts (has the DAG run since it was added?)")
        cur.execute(
            "insert into ops.api_tokens (token_id, token_sha256, workspace_id, label) values (%s, %s, %s, %s)",
            (token_id, token_hash(token), workspace_id, label),
        )
    conn.commit()
    return token_id, token


def revoke_token(conn, token_id: str) -> bool:
    with conn.cursor() as cur:
        cur.execute("update ops.api_tokens set revoked_at = now() where token_id = %s and revoked_at is null", (token_id,))
        changed = cur.rowcount
    conn.commit()
    return bool(changed)


def lookup(cur, token: str) -> Principal | None:
    cur.execute(
        "select token_id, workspace_id from ops.api_tokens where token_sha256 = %s and revoked_at is null",
        (token_hash(token),),
    )
    row = cur.fetchone()
    return Principal(row[0], row[1]) if row else None


class RateLimiter:
    """A token bucket per token: `per_minute` requests a minute, bursts up to that many."""

    def __init__(self, per_minute: int):
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when the request may go ahead; else the seconds until it may."""
        now = time.monotonic()
        with self._lock:
            tokens, stamp = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate
