"""A lean HTTP load generator for the reporting API's figure (scripts/bench.py, figure 6).

It runs in its own process, as real clients do: measured inside the bench's process, the clients'
threads shared an interpreter holding the whole bench (a large heap, so long garbage-collection pauses)
and their stalls were counted as the service's latency.

    python scripts/api_load.py SPEC.json   # prints {"latencies_ms": [...], "seconds": s}

SPEC: {"url": ..., "token": ..., "clients": 50, "queries": [[{params}, ...] one list per client]}
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests


def run(url: str, token: str, queries: list[list[dict]]) -> tuple[list[float], float]:
    headers = {"Authorization": f"Bearer {token}"}

    def client(params_list: list[dict]) -> list[float]:
        session = requests.Session()
        session.trust_env = False  # never through a proxy
        out = []
        for params in params_list:
            t0 = time.perf_counter()
            r = session.get(url, params=params, headers=headers, timeout=60)
            r.raise_for_status()
            out.append((time.perf_counter() - t0) * 1000)
        return out

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(queries)) as pool:
        latencies = [x for xs in pool.map(client, queries) for x in xs]
    return latencies, time.perf_counter() - t0


def main(argv: list[str]) -> int:
    spec = json.loads(open(argv[1]).read())
    latencies, seconds = run(spec["url"], spec["token"], spec["queries"])
    print(json.dumps({"latencies_ms": latencies, "seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
