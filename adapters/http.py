"""The HTTP layer every adapter shares.

``HttpClient`` wraps a ``requests.Session`` with one retry policy for every
platform:

- timeouts (connect, read);
- retries of ``TransientError`` and ``RateLimitedError`` only, with exponential
  backoff and full jitter, honouring Retry-After (or the platform's own retry
  hint), under a cap on the total time spent waiting: a wait that would exceed
  it is not started, the error goes up and the task's own retry (later) takes
  over;
- a few re-requests when a 200 answer is not the expected body (truncated or
  invalid JSON: the adapter's ``validate`` hook raises ``BadResponseError``);
- a per-platform request gate shared by every client of the process: at most
  ``max_concurrency`` requests in flight and ``min_interval`` seconds between
  two starts (``adapters.pacing``: ``PLATFORM_LIMITS``); with
  ``ADS_ELT_RATE_LIMIT_DIR`` set, the spacing is shared by every process of the
  machine (``SharedPacer``);
- a ``usage(response) -> seconds`` hook: the platform's usage headers on a good
  answer can ask for a pause before the next request;
- one token refresh on ``AuthExpiredError``; a refreshed token that is rejected
  too raises ``CredentialsRejectedError`` (a human must re-authorise);
- a per-platform ``classify(response) -> AdapterError | None`` hook, because
  platforms signal errors differently (some with HTTP 200).

The policy's numbers come from the environment when not given
(``ADS_ELT_HTTP_*``, see ``RetryPolicy.from_env`` and ``timeout_from_env``).

Sleep, clock and jitter source are injectable, so tests run without waiting.
Nothing secret is logged: URLs are redacted and known secrets are masked.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from adapters.errors import (
    RETRYABLE,
    SECRET_PARAMS,
    AdapterError,
    AuthExpiredError,
    BadResponseError,
    CredentialsRejectedError,
    PermanentError,
    RateLimitedError,
    ReauthRequiredError,
    TransientError,
    body_excerpt,
    redact,
)
from adapters.pacing import MinIntervalPacer, RequestGate, env_float, platform_gate

log = logging.getLogger(__name__)

Classifier = Callable[[requests.Response], AdapterError | None]
UsageHook = Callable[[requests.Response], float | None]
DEFAULT_TIMEOUT = (10.0, 120.0)  # connect, read (seconds)
USER_AGENT = "ads-elt/1.0 (+python-requests)"


def timeout_from_env() -> tuple[float, float]:
    """(connect, read) timeouts: ``ADS_ELT_HTTP_CONNECT_TIMEOUT`` and ``ADS_ELT_HTTP_READ_TIMEOUT`` seconds."""
    return (
        env_float("ADS_ELT_HTTP_CONNECT_TIMEOUT", DEFAULT_TIMEOUT[0]),
        env_float("ADS_ELT_HTTP_READ_TIMEOUT", DEFAULT_TIMEOUT[1]),
    )


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Delays: full jitter, ``uniform(0, min(max, base * 2**(n-1)))``.

    ``max_total_wait`` caps the seconds one request may spend waiting between
    attempts (backoff, Retry-After, usage pauses). ``bad_response_attempts``:
    how often a 200 answer that is not the expected body is requested in all.
    """

    max_attempts: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_total_wait: float = 300.0
    bad_response_attempts: int = 3

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """The defaults, overridden by ``ADS_ELT_HTTP_MAX_ATTEMPTS``, ``ADS_ELT_HTTP_BACKOFF_BASE``,
        ``ADS_ELT_HTTP_BACKOFF_MAX``, ``ADS_ELT_HTTP_MAX_TOTAL_WAIT`` and ``ADS_ELT_HTTP_BAD_RESPONSE_ATTEMPTS``."""
        d = cls()
        return cls(
            max_attempts=int(env_float("ADS_ELT_HTTP_MAX_ATTEMPTS", d.max_attempts)),
            backoff_base=env_float("ADS_ELT_HTTP_BACKOFF_BASE", d.backoff_base),
            backoff_max=env_float("ADS_ELT_HTTP_BACKOFF_MAX", d.backoff_max),
            max_total_wait=env_float("ADS_ELT_HTTP_MAX_TOTAL_WAIT", d.max_total_wait),
            bad_response_attempts=int(env_float("ADS_ELT_HTTP_BAD_RESPONSE_ATTEMPTS", d.bad_response_attempts)),
        )


class Authenticator(Protocol):
    """Puts credentials on a request; can renew them once when they expired."""

    def apply(self, headers: dict[str, str]) -> None: ...

    def refresh(self) -> None: ...


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date. None if absent or unreadable."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def strip_query_params(url: str, names: Iterable[str] = SECRET_PARAMS) -> str:
    """``url`` without the named query parameters (e.g. an access_token in a paging link)."""
    drop = {n.lower() for n in names}
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in drop]
    return urlunsplit(parts._replace(query=urlencode(query)))


def default_classify(response: requests.Response) -> AdapterError | None:
    """Errors by HTTP status alone: the fallback for whatever a platform hook leaves."""
    status = response.status_code
    if status < 400:
        return None
    detail = f"HTTP {status}: body starts with {body_excerpt(response.content, 200)}"
    retry_after = retry_after_seconds(response.headers)
    if status == 429:
        return RateLimitedError(detail, retry_after=retry_after, status_code=status)
    if status >= 500 or status == 408:
        return TransientError(detail, retry_after=retry_after, status_code=status)
    if status == 401:
        return AuthExpiredError(detail, status_code=status)
    return PermanentError(detail, status_code=status)


class HttpClient:
    """A session with retries, backoff, pacing, token refresh and error classification.

    ``platform`` names the source in errors and logs. ``classify`` is the default
    hook (per request override possible); whatever it returns None for on a 4xx/5xx
    falls back to ``default_classify``. ``secrets`` are masked in every message.
    """

    def __init__(
        self,
        platform: str = "",
        *,
        base_url: str = "",
        session: requests.Session | None = None,
        classify: Classifier | None = None,
        usage: UsageHook | None = None,
        timeout: float | tuple[float, float] | None = None,
        retry: RetryPolicy | None = None,
        min_interval: float = 0.0,
        pacer: Callable[[], None] | None = None,
        gate: RequestGate | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        secrets: Iterable[str] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.platform = platform
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", USER_AGENT)
        self.classify = classify or default_classify
        self.usage = usage
        self.timeout = timeout if timeout is not None else timeout_from_env()
        self.retry = retry or RetryPolicy.from_env()
        self._gate = gate
        self._pause = 0.0  # seconds the platform's usage headers asked to wait before the next request
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()
        self.headers = dict(headers or {})
        self.pacer = pacer or (MinIntervalPacer(min_interval, clock, sleep) if min_interval > 0 else None)
        self._secrets: set[str] = {s for s in secrets if s}

    @property
    def gate(self) -> RequestGate | None:
        """The request gate: the given one, else the platform's shared one (none without a platform)."""
        if self._gate is None and self.platform:
            self._gate = platform_gate(self.platform)
        return self._gate

    # -- secrets ------------------------------------------------------------

    def add_secret(self, *values: str | None) -> None:
        """Mask these values in every message this client produces."""
        self._secrets.update(v for v in values if v)

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def redact_url(self, url: str) -> str:
        return self.redact(strip_query_params(url))

    # -- requests -----------------------------------------------------------

    def url_for(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        json: Any = None,
        auth: Authenticator | None = None,
        classify: Classifier | None = None,
        validate: Callable[[requests.Response], object] | None = None,
        context: str | None = None,
        account_id: str | None = None,
    ) -> requests.Response:
        """Send one request, retrying what is worth retrying; return a successful response.

        ``validate(response)`` may raise ``BadResponseError`` for a 200 answer whose body
        is unusable (truncated, not JSON): the request is repeated up to
        ``retry.bad_response_attempts`` times in all. Raises a typed ``AdapterError``
        otherwise, its message prefixed with ``context`` (default: method and redacted
        URL) and free of secrets.
        """
        url = self.url_for(path_or_url)
        classify = classify or self.classify
        what = context or f"{method} {self.redact_url(url)}"
        attempt = 0
        bad_bodies = 0
        waited = 0.0
        refreshed = False
        while True:
            attempt += 1
            waited += self._wait_for_usage(what, waited)
            error = self._attempt(method, url, params, headers, data, json, auth, classify)
            if isinstance(error, requests.Response):
                if validate is None:
                    return error
                try:
                    validate(error)
                    return error
                except BadResponseError as exc:
                    bad_bodies += 1
                    error = exc
                    if bad_bodies >= self.retry.bad_response_attempts:
                        raise self._tag(exc, what, account_id).with_message(
                            f"{what}: {exc.message} (same after {bad_bodies} attempt(s))"
                        ) from None
            error = self._tag(error, what, account_id)
            if isinstance(error, AuthExpiredError) and auth is not None and not refreshed:
                log.info("%s: access token expired, refreshing it once", what)
                refreshed = True
                attempt -= 1
                try:
                    auth.refresh()
                except AdapterError as exc:
                    raise self._tag(exc, what, account_id) from None
                continue
            if isinstance(error, AuthExpiredError) and refreshed:
                raise CredentialsRejectedError(
                    f"{error.message} (still rejected after a token refresh: the grant was revoked or lost "
                    "its permissions)",
                    platform=error.platform,
                    account_id=error.account_id,
                    status_code=error.status_code,
                    code=error.code,
                )
            if not isinstance(error, (*RETRYABLE, BadResponseError)):
                raise error
            delay = self._delay(error, attempt)
            if attempt >= self.retry.max_attempts:
                raise error.with_message(f"{error.message} (gave up after {attempt} attempts, {waited:.1f}s of waiting)")
            if waited + delay > self.retry.max_total_wait:
                raise error.with_message(
                    f"{error.message} (not retrying: waiting {delay:.0f}s more would exceed the "
                    f"{self.retry.max_total_wait:.0f}s retry budget; {attempt} attempt(s) made)"
                )
            log.warning(
                "%s: %s; retrying in %.1fs (attempt %d of %d)",
                what,
                type(error).__name__,
                delay,
                attempt,
                self.retry.max_attempts,
            )
            self.sleep(delay)
            waited += delay

    def _wait_for_usage(self, what: str, waited: float) -> float:
        """Honour a pause the platform's usage headers asked for; returns the seconds slept."""
        pause, self._pause = self._pause, 0.0
        if pause <= 0:
            return 0.0
        if waited + pause > self.retry.max_total_wait:
            raise RateLimitedError(
                f"{what}: the platform's usage headers ask for a {pause:.0f}s pause, more than the "
                f"{self.retry.max_total_wait:.0f}s retry budget",
                retry_after=pause,
                platform=self.platform or None,
            )
        log.warning("%s: platform usage is high; pausing %.1fs before the next request", what, pause)
        self.sleep(pause)
        return pause

    def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        data: Any,
        json: Any,
        auth: Authenticator | None,
        classify: Classifier,
    ) -> requests.Response | AdapterError:
        if self.pacer is not None:
            self.pacer()
        request_headers = {**self.headers, **(headers or {})}
        if auth is not None:
            auth.apply(request_headers)
        started = self.clock()
        gate = self.gate
        try:
            if gate is not None:
                gate.__enter__()
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    headers=request_headers,
                    data=data,
                    json=json,
                    timeout=self.timeout,
                )
            finally:
                if gate is not None:
                    gate.__exit__(None, None, None)
        except requests.Timeout as exc:
            return TransientError(f"timed out ({type(exc).__name__})")
        except (
            requests.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            return TransientError(f"connection failed ({type(exc).__name__}: {self.redact(str(exc))})")
        except requests.RequestException as exc:
            return PermanentError(f"request failed ({type(exc).__name__}: {self.redact(str(exc))})")
        log.debug(
            "%s %s -> %s in %.0f ms",
            method,
            self.redact_url(response.url or url),
            response.status_code,
            (self.clock() - started) * 1000,
        )
        error = classify(response)
        if error is None and response.status_code >= 400:
            error = default_classify(response)
        if error is None and self.usage is not None:
            self._pause = max(self._pause, float(self.usage(response) or 0.0))
        return response if error is None else error

    def _tag(self, error: AdapterError, what: str, account_id: str | None) -> AdapterError:
        return error.with_message(
            self.redact(f"{what}: {error.message}"),
            platform=error.platform or self.platform or None,
            account_id=error.account_id or account_id,
        )

    def _delay(self, error: AdapterError, attempt: int) -> float:
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        cap = min(self.retry.backoff_max, self.retry.backoff_base * 2 ** (attempt - 1))
        return self.rng.uniform(0.0, cap)

    def close(self) -> None:
        self.session.close()


class StaticBearerAuth:
    """A long-lived bearer token (e.g. a Meta system-user token). Cannot be renewed."""

    def __init__(self, token: str, platform: str = "") -> None:
        self._token = token
        self._platform = platform

    def apply(self, headers: dict[str, str]) -> None:
        headers["Authorization"] = f"Bearer {self._token}"

    def refresh(self) -> None:
        raise ReauthRequiredError(
            "the access token was rejected and cannot be renewed automatically",
            platform=self._platform or None,
        )


def error_body(response: requests.Response) -> dict | None:
    """None for an answer below 400; else its JSON object, {} when the body is not one (not JSON, or a list)."""
    if response.status_code < 400:
        return None
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def classify_oauth_token_response(response: requests.Response) -> AdapterError | None:
    """OAuth 2.0 token endpoint errors (RFC 6749 section 5.2)."""
    status = response.status_code
    payload = error_body(response)
    if payload is None:
        return None
    error = payload.get("error")
    description = payload.get("error_description", "")
    if isinstance(error, dict):  # some providers nest a Google-style error object
        description = error.get("message", "")
        error = error.get("status")
    detail = f"token refresh failed: HTTP {status} {error or ''} {description}".strip()
    if error in ("invalid_grant", "invalid_client", "unauthorized_client"):
        return ReauthRequiredError(detail, status_code=status, code=error)
    if status == 429:
        return RateLimitedError(
            detail,
            retry_after=retry_after_seconds(response.headers),
            status_code=status,
        )
    if status >= 500:
        return TransientError(
            detail,
            retry_after=retry_after_seconds(response.headers),
            status_code=status,
        )
    return PermanentError(detail, status_code=status, code=error)


class OAuth2RefreshTokenAuth:
    """Access tokens from an OAuth 2.0 refresh-token grant, cached until shortly before expiry."""

    def __init__(
        self,
        http: HttpClient,
        token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        expiry_margin: float = 60.0,
    ) -> None:
        self.http = http
        self.token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self.expiry_margin = expiry_margin
        self._access_token: str | None = None
        self._expires_at = 0.0
        self.refresh_count = 0
        http.add_secret(client_secret, refresh_token)

    def apply(self, headers: dict[str, str]) -> None:
        if self._access_token is None or self.http.clock() >= self._expires_at:
            self.refresh()
        headers["Authorization"] = f"Bearer {self._access_token}"

    def refresh(self) -> None:
        response = self.http.request(
            "POST",
            self.token_url,
            data={
                "grant_type": "refresh_token",
                "client_id": self._client_id,
                "client_secret": self._client_secret,
                "refresh_token": self._refresh_token,
            },
            classify=classify_oauth_token_response,
            context=f"{self.http.platform or 'oauth'} token refresh at {strip_query_params(self.token_url)}",
        )
        try:
            payload = response.json()
            token = payload["access_token"]
            expires_in = float(payload.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise PermanentError(
                f"token refresh at {self.token_url}: unexpected answer, body starts with {body_excerpt(response.content)}",
                platform=self.http.platform or None,
            ) from None
        if not isinstance(token, str) or not token:
            raise PermanentError(f"token refresh at {self.token_url}: empty access_token")
        self.http.add_secret(token)
        self._access_token = token
        self._expires_at = self.http.clock() + max(0.0, expires_in - self.expiry_margin)
        self.refresh_count += 1
