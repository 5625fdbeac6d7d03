"""Adapter clients pointed at an in-process sandbox, with a no-wait HTTP layer (sleeps recorded)."""

from __future__ import annotations

import random

from adapters.http import HttpClient, RetryPolicy


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
