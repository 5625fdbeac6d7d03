"""The shared HTTP layer, against a scripted transport: no network, no waiting."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
from requests.adapters import BaseAdapter

from adapters.errors import (
    AuthExpiredError,
    BadResponseError,
    PermanentError,
    RateLimitedError,
    ReauthRequiredError,
    TransientError,
    redact,
)
from adapters.http import (
    HttpClient,
    OAuth2RefreshTokenAuth,
    RetryPolicy,
    retry_after_seconds,
    strip_query_params,
)
from adapters.pacing import MinIntervalPacer

BASE = "https://api.example.test"


class ScriptedTransport(BaseAdapter):
    """Answers each request with the next scripted item: (status, body, headers) or an exception."""

    def __init__(self, script):
        super().__init__()
        self.script = list(script)
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.requests.append(request)
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        status, body, *rest = item
        headers = rest[0] if rest else {}
        response = requests.Response()
        response.status_code = status
        response._content = body if isinstance(body, bytes) else body.encode()
        response.headers.update(headers)
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client(script, *, retry=None, **kwargs):
    clock = FakeClock()
    session = requests.Session()
    transport = ScriptedTransport(script)
    session.mount("https://", transport)
    http = HttpClient(
        "test",
        base_url=BASE,
        session=session,
        retry=retry or RetryPolicy(max_attempts=4, backoff_base=1.0, backoff_max=8.0, max_total_wait=60.0),
        sleep=clock.sleep,
        clock=clock,
        rng=random.Random(1),
        **kwargs,
    )
    return http, transport, clock


def test_transient_errors_are_retried_with_full_jitter_then_succeed():
    http, transport, clock = client([(500, "oops"), (502, "bad gateway"), (200, '{"ok": true}')])
    response = http.request("GET", "/things")
    assert response.json() == {"ok": True}
    assert len(transport.requests) == 3
    assert len(clock.sleeps) == 2
    assert 0 <= clock.sleeps[0] <= 1.0 and 0 <= clock.sleeps[1] <= 2.0


def test_gives_up_after_max_attempts_with_a_transient_error():
    http, transport, clock = client([(503, "down")] * 4)
    with pytest.raises(TransientError) as info:
        http.request("GET", "/things", context="test things for acct 1", account_id="1")
    assert len(transport.requests) == 4 and len(clock.sleeps) == 3
    assert str(info.value).startswith("test things for acct 1: HTTP 503")
    assert "gave up after 4 attempts" in str(info.value)
    assert info.value.platform == "test" and info.value.account_id == "1"


def test_retry_after_header_is_honoured():
    http, _transport, clock = client([(429, "slow down", {"Retry-After": "7"}), (200, "{}")])
    http.request("GET", "/things")
    assert clock.sleeps == [7.0]


def test_retry_after_as_http_date():
    when = datetime.now(UTC) + timedelta(seconds=30)
    seconds = retry_after_seconds({"Retry-After": format_datetime(when, usegmt=True)})
    assert 25 <= seconds <= 31
    assert retry_after_seconds({}) is None
    assert retry_after_seconds({"Retry-After": "soon"}) is None


def test_a_wait_beyond_the_budget_is_not_slept_but_raised():
    http, transport, clock = client([(429, "quota", {"Retry-After": "8962"})])
    with pytest.raises(RateLimitedError) as info:
        http.request("GET", "/things")
    assert info.value.retry_after == 8962
    assert clock.sleeps == [] and len(transport.requests) == 1
    assert "retry budget" in str(info.value)


def test_permanent_errors_are_not_retried():
    http, transport, clock = client([(403, "forbidden")])
    with pytest.raises(PermanentError):
        http.request("GET", "/things")
    assert len(transport.requests) == 1 and clock.sleeps == []


def test_connection_errors_and_timeouts_are_transient():
    http, _transport, clock = client(
        [
            requests.ConnectionError("reset by peer"),
            requests.ReadTimeout("slow"),
            (200, "{}"),
        ]
    )
    assert http.request("GET", "/things").status_code == 200
    assert len(clock.sleeps) == 2
    http, _transport, clock = client([requests.ConnectTimeout("x")] * 4)
    with pytest.raises(TransientError, match="timed out"):
        http.request("GET", "/things")


def test_platform_hook_classifies_http_200_errors():
    def classify(response):
        body = response.json()
        if body.get("code", 0) == 40100:
            return RateLimitedError("code 40100: too many requests", retry_after=2)
        if body.get("code", 0) != 0:
            return PermanentError(f"code {body['code']}")
        return None

    http, _transport, clock = client([(200, '{"code": 40100}'), (200, '{"code": 0, "data": 1}')], classify=classify)
    assert http.request("GET", "/report").json()["data"] == 1
    assert clock.sleeps == [2]
    http, _transport, clock = client([(200, '{"code": 40001}')], classify=classify)
    with pytest.raises(PermanentError):
        http.request("GET", "/report")


def test_hook_returning_none_on_an_error_status_falls_back_to_the_status():
    http, _transport, _clock = client([(500, "x")] * 4, classify=lambda response: None)
    with pytest.raises(TransientError):
        http.request("GET", "/things")


def test_pacer_keeps_a_minimum_interval_between_requests():
    clock = FakeClock()
    pacer = MinIntervalPacer(0.5, clock=clock, sleep=clock.sleep)
    pacer()
    pacer()
    clock.now += 0.2
    pacer()
    clock.now += 2.0
    pacer()
    assert clock.sleeps == [pytest.approx(0.5), pytest.approx(0.3)]
    http, _transport, fake = client([(200, "{}")] * 3, min_interval=1.0)
    for _ in range(3):
        http.request("GET", "/things")
    assert fake.sleeps == [1.0, 1.0]


class CountingAuth:
    def __init__(self):
        self.token = "tok-1"
        self.refreshes = 0

    def apply(self, headers):
        headers["Authorization"] = f"Bearer {self.token}"

    def refresh(self):
        self.refreshes += 1
        self.token = f"tok-{self.refreshes + 1}"


def test_auth_expired_refreshes_once_then_succeeds():
    auth = CountingAuth()
    http, transport, clock = client([(401, "expired"), (200, "{}")])
    assert http.request("GET", "/things", auth=auth).status_code == 200
    assert auth.refreshes == 1
    assert [r.headers["Authorization"] for r in transport.requests] == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]
    assert clock.sleeps == []


def test_auth_expired_twice_is_raised_after_one_refresh():
    auth = CountingAuth()
    http, transport, _clock = client([(401, "expired"), (401, "expired")])
    with pytest.raises(AuthExpiredError, match="after a token refresh"):
        http.request("GET", "/things", auth=auth)
    assert auth.refreshes == 1 and len(transport.requests) == 2


def test_oauth_refresh_token_auth_caches_and_maps_errors():
    http, transport, clock = client(
        [
            (
                200,
                '{"access_token": "ya29.first", "expires_in": 3599, "token_type": "Bearer"}',
            ),
            (200, "{}"),
            (200, "{}"),
            (
                400,
                '{"error": "invalid_grant", "error_description": "Token has been expired or revoked."}',
            ),
        ]
    )
    auth = OAuth2RefreshTokenAuth(http, f"{BASE}/token", "client-1", "very-secret-value", "refresh-secret-value")
    http.request("GET", "/a", auth=auth)
    http.request("GET", "/b", auth=auth)
    assert auth.refresh_count == 1
    form = transport.requests[0].body
    assert "grant_type=refresh_token" in form and "refresh_token=refresh-secret-value" in form
    clock.now += 3600
    with pytest.raises(ReauthRequiredError) as info:
        http.request("GET", "/c", auth=auth)
    assert "invalid_grant" in str(info.value)
    for secret in ("very-secret-value", "refresh-secret-value", "ya29.first"):
        assert secret not in str(info.value)


def test_error_messages_never_carry_secrets():
    http, _transport, _clock = client(
        [requests.ConnectionError(f"cannot reach {BASE}/x?access_token=EAABsecret123&y=1")] * 4,
        secrets=["known-secret-1"],
    )
    with pytest.raises(TransientError) as info:
        http.request("GET", f"{BASE}/x?access_token=EAABsecret123&y=1")
    assert "EAABsecret123" not in str(info.value) and "access_token=***" in str(info.value)
    text = 'Authorization: Bearer abc.def-123 "refresh_token": "1//xyz" known-secret-1 client_secret=s3cr3t'
    cleaned = redact(text, ["known-secret-1"])
    for secret in ("abc.def-123", "1//xyz", "known-secret-1", "s3cr3t"):
        assert secret not in cleaned
    assert "EAABsecret" not in str(BadResponseError("see https://x.test/?access_token=EAABsecret"))


def test_strip_query_params_removes_tokens_only():
    url = "https://graph.example.test/v21.0/act_1/insights?access_token=T&limit=5&after=MQ"
    assert strip_query_params(url) == "https://graph.example.test/v21.0/act_1/insights?limit=5&after=MQ"


# -- the request spacing shared by processes -----------------------------------------------------

PACED_WORKER = r"""
import json, sys, threading, time
from adapters.pacing import MinIntervalPacer, SharedPacer

directory, min_interval, calls, start_at = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
pacer = SharedPacer(directory, "meta", min_interval) if directory != "-" else MinIntervalPacer(min_interval)
starts, lock = [], threading.Lock()

def work():
    for _ in range(calls):
        pacer()
        with lock:
            starts.append(time.monotonic())  # when the request would go out

while time.monotonic() < start_at:
    time.sleep(0.005)
threads = [threading.Thread(target=work) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps(starts))
"""


def paced_starts(directory: str, min_interval: float, calls: int, processes: int = 2) -> list[float]:
    """Request starts of `processes` processes x 3 threads x `calls`, all pacing through `directory` ('-': each alone)."""
    import json
    import subprocess
    import sys
    import time
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    start_at = time.monotonic() + 3.0  # every process imported and waiting before the first start
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PACED_WORKER, directory, str(min_interval), str(calls), str(start_at)],
            cwd=repo,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    starts = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0
        starts += json.loads(out)
    return sorted(starts)


def most_in_any_window(starts: list[float], window: float) -> int:
    most, first = 0, 0
    for last, t in enumerate(starts):
        while t - starts[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_processes_sharing_the_pacer_keep_to_the_rate_together(tmp_path):
    interval, calls = 0.05, 8  # 2 processes x 3 threads x 8 = 48 starts, 20 per second allowed
    starts = paced_starts(str(tmp_path), interval, calls)
    assert len(starts) == 48
    # Starts are reserved exactly `interval` apart; a thread woken late may only come closer to the next
    # one, never pull more starts into a window: allow one extra start per window for scheduling delay.
    assert most_in_any_window(starts, 0.5) <= 0.5 / interval + 1
    assert starts[-1] - starts[0] >= (len(starts) - 1) * interval - 0.01
    # Each process pacing alone lets both through at once: twice the rate (what the shared pacer prevents).
    alone = paced_starts("-", interval, calls)
    assert most_in_any_window(alone, 0.5) > 0.5 / interval + 1


def test_reservations_are_spaced_and_a_stale_schedule_is_ignored(tmp_path):
    from adapters.pacing import SharedPacer

    clock = FakeClock()
    pacer = SharedPacer(tmp_path, "tiktok", 0.25, clock=clock, sleep=clock.sleep)
    other = SharedPacer(tmp_path, "tiktok", 0.25, clock=clock, sleep=clock.sleep)  # another process's view
    assert [pacer.reserve(), other.reserve(), pacer.reserve()] == pytest.approx([clock.now, clock.now + 0.25, clock.now + 0.5])
    (tmp_path / "tiktok.pace").write_text(f"{clock.now + 10**6}")  # left by an earlier boot
    assert other.reserve() == pytest.approx(clock.now)


class LateClock(FakeClock):
    """A clock whose sleeps overrun by the given amounts (a busy machine wakes threads late)."""

    def __init__(self, overruns):
        super().__init__()
        self.overruns = list(overruns)

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        self.now += self.overruns.pop(0) if self.overruns else 0.0


def test_a_late_start_pushes_the_next_one_back():
    clock = LateClock([0.3])
    pacer = MinIntervalPacer(0.5, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(3):
        pacer()
        starts.append(clock.now)
    # The second caller woke 0.3 s late: the third still starts a full interval after it.
    assert [b - a for a, b in itertools.pairwise(starts)] == pytest.approx([0.8, 0.5])


def test_a_shared_slot_missed_by_a_late_caller_is_not_used(tmp_path):
    from adapters.pacing import SharedPacer

    clock = LateClock([0.3])
    pacer = SharedPacer(tmp_path, "meta", 0.5, clock=clock, sleep=clock.sleep)
    other = SharedPacer(tmp_path, "meta", 0.5, clock=clock, sleep=clock.sleep)
    pacer()  # now
    first = clock.now
    other.reserve()  # another process holds the slot at first + 0.5 and goes on time
    pacer()  # its slot is first + 1.0, it wakes 0.3 s late: more than half an interval, so it waits for first + 1.5
    assert clock.now == pytest.approx(first + 1.5)
    assert clock.sleeps == pytest.approx([1.0, 0.2])


def test_a_caller_that_always_wakes_late_still_goes(tmp_path):
    from adapters.pacing import SharedPacer

    clock = LateClock([0.4] * 100)
    pacer = SharedPacer(tmp_path, "meta", 0.5, clock=clock, sleep=clock.sleep)
    pacer()  # now: no sleep
    pacer()  # every slot is missed by 0.4 s: it gives up waiting after the retries and goes
    assert len(clock.sleeps) == 1 + pacer.max_late_retries


def test_the_platform_gate_shares_its_spacing_only_when_configured(tmp_path, monkeypatch):
    from adapters import pacing

    monkeypatch.setattr(pacing, "_GATES", {})
    monkeypatch.setenv("ADS_ELT_META_MIN_INTERVAL", "0.1")
    monkeypatch.delenv("ADS_ELT_RATE_LIMIT_DIR", raising=False)
    assert isinstance(pacing.platform_gate("meta")._spacing, MinIntervalPacer)
    monkeypatch.setattr(pacing, "_GATES", {})
    monkeypatch.setenv("ADS_ELT_RATE_LIMIT_DIR", str(tmp_path))
    gate = pacing.platform_gate("meta")
    assert isinstance(gate._spacing, pacing.SharedPacer) and gate._spacing.path == str(tmp_path / "meta.pace")
