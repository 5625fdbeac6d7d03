"""Typed adapter errors, so the caller decides: retry, wait, re-authorise or skip.

| error                 | meaning                                              | caller's move            |
|-----------------------|------------------------------------------------------|--------------------------|
| TransientError        | 5xx, timeout, connection reset                       | retry later              |
| RateLimitedError      | throttled; ``retry_after`` seconds when known        | wait, then retry         |
| AuthExpiredError      | access token expired                                 | refresh once, retry      |
| ReauthRequiredError   | token expired or revoked for good                    | a human re-authorises    |
| CredentialsRejectedError | refreshed token rejected as well (a ReauthRequiredError) | a human re-authorises |
| PermanentError        | permission denied, bad request, unknown account      | skip and report          |
| BadResponseError      | body not JSON or not the expected shape              | re-request a few times, then fail |

Every message passes through ``redact`` so tokens and secrets never reach logs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SECRET_PARAMS = (
    "access_token",
    "refresh_token",
    "client_secret",
    "developer_token",
    "id_token",
    "password",
    "api_key",
)

_QUERY_SECRET = re.compile(r"(?i)(?P<prefix>[?&;\s\"']|^)(?P<name>" + "|".join(SECRET_PARAMS) + r")=(?P<value>[^&\s\"'#]+)")
_JSON_SECRET = re.compile(r"(?i)(?P<prefix>[\"'](?:" + "|".join(SECRET_PARAMS) + r")[\"']\s*:\s*[\"'])(?P<value>[^\"']+)")
_BEARER = re.compile(r"(?i)(?P<prefix>\bbearer\s+)(?P<value>[A-Za-z0-9._~+/=-]+)")
REDACTED = "***"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with secret query/form/JSON values, bearer tokens and known secrets masked."""
    text = str(text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    text = _QUERY_SECRET.sub(lambda m: f"{m['prefix']}{m['name']}={REDACTED}", text)
    text = _JSON_SECRET.sub(lambda m: f"{m['prefix']}{REDACTED}", text)
    return _BEARER.sub(lambda m: f"{m['prefix']}{REDACTED}", text)


class AdapterError(Exception):
    """Base of every adapter error. ``str(error)`` is safe to log."""

    def __init__(
        self,
        message: str,
        *,
        platform: str | None = None,
        account_id: str | None = None,
        status_code: int | None = None,
        code: str | int | None = None,
    ) -> None:
        self.message = redact(message)
        self.platform = platform
        self.account_id = account_id
        self.status_code = status_code
        self.code = code
        super().__init__(self.message)

    def _copy_kwargs(self) -> dict:
        return {
            "platform": self.platform,
            "account_id": self.account_id,
            "status_code": self.status_code,
            "code": self.code,
        }

    def with_message(self, message: str, **attrs: object):
        """A copy of this error (same type and attributes) with another message."""
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.__dict__.update({k: v for k, v in attrs.items() if v is not None})
        clone.message = redact(message)
        clone.args = (clone.message,)
        return clone

    def with_context(
        self,
        context: str,
        *,
        platform: str | None = None,
        account_id: str | None = None,
    ):
        """The same error, its message prefixed with ``context`` ("meta insights page 2 ...")."""
        return self.with_message(f"{context}: {self.message}", platform=platform, account_id=account_id)

    def __reduce__(self):
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type, state: dict) -> AdapterError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    error.args = (state.get("message", ""),)
    return error


class TransientError(AdapterError):
    """5xx, timeouts, connection resets: the same request may well succeed later.

    ``retry_after``: seconds the server asked to wait (e.g. 503 with Retry-After), or None.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RateLimitedError(AdapterError):
    """Throttled. ``retry_after``: seconds to wait when the platform said so, else None."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class AuthExpiredError(AdapterError):
    """The access token expired: refresh it and retry once."""


class ReauthRequiredError(AdapterError):
    """Credentials expired or were revoked for good: a human must re-authorise.

    ``action``: what the person must do, in one sentence (shown in the alert).
    """

    action = "Reconnect the account: create a new access token and store it in the account's Airflow Connection."


class CredentialsRejectedError(ReauthRequiredError, AuthExpiredError):
    """The token was refreshed and the new one was rejected too: the grant itself is gone."""


class PermanentError(AdapterError):
    """Permission denied, bad request, unknown account: retrying will not help."""


class BadResponseError(AdapterError):
    """The body is not JSON, or not the shape the adapter expects."""


RETRYABLE = (TransientError, RateLimitedError)


def body_excerpt(body: bytes, limit: int = 40) -> str:
    """The start of a body for an error message, e.g. ``'<html><head>'``."""
    text = body[:limit].decode("utf-8", "replace").strip()
    return repr(redact(text))
