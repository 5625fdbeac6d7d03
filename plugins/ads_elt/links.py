"""Signed, expiring links to the reporting service (api/): a marketer opens them from Slack without logging in.

A link grants one workspace until its expiry: ``sig`` is an HMAC-SHA256, under the
`reporting_api` Connection's password, over the workspace id and the expiry (Unix
seconds). The page, platform, campaign and date in the URL are filters, not grants.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
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


def signing_key() -> bytes | None:
    """The `reporting_api` Connection's password, or None when the service is not configured."""
    import os

    from ads_elt.db import connection_or_none

    conn = connection_or_none(os.environ.get("ADS_API_REPORTING_CONN_ID", "reporting_api"))
    return conn.password.encode() if conn is not None and conn.password else None


def public_url() -> str | None:
    """The service's public URL (the `reporting_api` Connection's host), or None."""
    import os

    from ads_elt.db import connection_or_none

    conn = connection_or_none(os.environ.get("ADS_API_REPORTING_CONN_ID", "reporting_api"))
    if conn is None or not conn.host:
        return None
    url = conn.host if "://" in conn.host else f"http://{conn.host}"
    if conn.port and url.count(":") < 2:
        url = f"{url}:{conn.port}"
    return url.rstrip("/")
