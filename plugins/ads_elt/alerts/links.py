"""Signed, expiring links to the reporting service (api/): a marketer opens them from Slack without logging in.

A link grants one workspace until its expiry: ``sig`` is an HMAC-SHA256, under the
`reporting_api` Connection's password, over the workspace id and the expiry (Unix
seconds). The page, platform, campaign and date in the URL are filters, not grants.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SIG_PARAM, EXP_PARAM = "sig", "exp"


def signature(key: bytes, workspace_id: str, expires: int) -> str:
    return hmac.new(key, f"{workspace_id}\n{int(expires)}".encode(), hashlib.sha256).hexdigest()


def verify(key: bytes, workspace_id: str, expires: str | int | None, sig: str | None, now: float | None = None) -> str | None:
    """None when the link is good; else why not ('expired', 'forged', 'unsigned')."""
    if not sig or expires in (None, ""):
        return "unsigned"
    try:
        exp = int(expires)
    except (TypeError, ValueError):
        return "forged"
    if not hmac.compare_digest(signature(key, workspace_id, exp), str(sig)):
        return "forged"
    if exp < (time.time() if now is None else now):
        return "expired"
    return None


def sign_url(url: str, key: bytes, workspace_id: str, ttl_days: float = 14, now: float | None = None) -> str:
    """`url` with exp and sig for `workspace_id` added (any earlier exp/sig replaced)."""
    exp = int((time.time() if now is None else now) + ttl_days * 86400)
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in (SIG_PARAM, EXP_PARAM)]
    query += [(EXP_PARAM, str(exp)), (SIG_PARAM, signature(key, workspace_id, exp))]
    return urlunsplit(parts._replace(query=urlencode(query)))


_SIGNED = re.compile(r"([?&]|&amp;)sig=[0-9a-f]{16,}")


def without_signatures(text: str) -> str:
    """`text` with every link's signature cut (for logs and XCom: a signed link opens a dashboard)."""
    return _SIGNED.sub(r"\1sig=<redacted>", text)


REPORTING_CONN_ID = os.environ.get("ADS_API_REPORTING_CONN_ID", "reporting_api")


def link_ttl_days() -> float:
    """How many days a signed link stays valid (ADS_API_LINK_TTL_DAYS, default 14)."""
    raw = os.environ.get("ADS_API_LINK_TTL_DAYS") or "14"
    try:
        days = float(raw)
    except ValueError:
        raise ValueError(f"ADS_API_LINK_TTL_DAYS={raw!r} is not a number of days") from None
    if days <= 0:
        raise ValueError(f"ADS_API_LINK_TTL_DAYS must be positive, got {raw}")
    return days


@dataclass(frozen=True)
class ReportingService:
    """The `reporting_api` Connection: the service's public URL (None without a host) and its link-signing key."""

    url: str | None
    key: bytes
    ttl_days: float

    def sign(self, url: str, workspace_id: str) -> str:
        return sign_url(url, self.key, workspace_id, self.ttl_days)


def reporting_service() -> ReportingService | None:
    """The reporting service as the `reporting_api` Connection describes it, or None when it has no key."""
    from ads_elt.registry.connections import base_url
    from ads_elt.warehouse.db import connection_or_none

    conn = connection_or_none(REPORTING_CONN_ID)
    if conn is None or not conn.password:
        return None
    url = base_url(conn, REPORTING_CONN_ID) if conn.host else None
    return ReportingService(url, conn.password.encode(), link_ttl_days())
