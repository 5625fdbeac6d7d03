"""The demo world's sandbox for adapter tests, and clients with a no-wait HTTP layer (sleeps recorded).

A pytest plugin (``conftest.pytest_plugins``): its fixtures ``world`` (the demo world up to
``DEMO_END``, once per module) and ``sandbox`` (a fresh server on it for each test) serve every test
module that does not define its own.
"""

from __future__ import annotations

import random
from datetime import date

import pytest

from adapters.http import HttpClient, RetryPolicy
from sandbox.server import SandboxServer
from sandbox.world import World

DEMO_END = date(2026, 11, 20)


@pytest.fixture(scope="module")
def world() -> World:
    return World.demo(DEMO_END)


@pytest.fixture
def sandbox(world):
    with SandboxServer(world) as server:
        yield server


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def http(platform: str, classify, sleeps: Sleeps | None = None) -> HttpClient:
    return HttpClient(
        platform,
        classify=classify,
        sleep=sleeps if sleeps is not None else Sleeps(),
        rng=random.Random(7),
        retry=RetryPolicy(max_attempts=5, backoff_base=1.0, backoff_max=8.0, max_total_wait=120.0),
    )
