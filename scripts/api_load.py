"""The load generator of the reporting API's figure (scripts/bench.py, figure 6): `wrk` with a Lua script.

`wrk` (Debian's package; `make bench` installs it) holds `connections` keep-alive connections open and
sends the next request on each as soon as its answer has arrived, for `seconds`, from native threads
that take a few percent of a core. Clients written in Python took a whole core of the same 2-core machine
for themselves (their threads' parsing and the interpreter lock), so their own stalls were counted as the
service's latency.

    python scripts/api_load.py SPEC.json   # prints {"requests", "seconds", "p50_ms", "p95_ms", "p99_ms", "distinct_paths"}

SPEC: {"url": "http://host:port", "token": ..., "paths": ["/v1/...?...", ...], "connections": 50, "seconds": 10}

The requests go through `paths` in order, spread over wrk's threads, each path at most once while
there are paths left (a cold run wants every request to be a different question); a warm run gives one
path, asked again and again. The token travels in the script (a file readable by its owner only), not
on wrk's command line. Any answer but 200 or a socket error fails the run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

THREADS = 2  # one per core of the machine

SCRIPT = r"""
local paths = {%(paths)s}
local next_id = 0
wrk.headers["Authorization"] = %(authorization)s

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

local sent = 0
request = function()
  local i = (id + sent * %(threads)d) %% #paths
  sent = sent + 1
  return wrk.format("GET", paths[i + 1])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nRESULT {"requests": %%d, "micros": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "bad_status": %%d, "socket_errors": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def lua_string(value: str) -> str:
    if not re.fullmatch(r"[\x20-\x7e]*", value) or '"' in value or "\\" in value:
        raise ValueError(f"not a plain ASCII path or token for the wrk script: {value[:60]!r}")
    return f'"{value}"'


def run(url: str, token: str, paths: list[str], connections: int = 50, seconds: int = 10) -> dict:
    """Latency percentiles (ms) and throughput of `paths` at `connections` concurrent clients for `seconds`."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    if not paths:
        raise ValueError("no paths to request")
    with tempfile.TemporaryDirectory(prefix="api-load-") as tmp:
        script = Path(tmp) / "load.lua"
        script.write_text(SCRIPT % {"paths": ", ".join(lua_string(p) for p in paths), "authorization": lua_string(f"Bearer {token}"), "threads": THREADS})
        os.chmod(script, 0o600)
        done = subprocess.run(
            [wrk, f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script), url],
            capture_output=True, text=True, timeout=seconds + 120,
        )  # fmt: skip
    found = re.search(r"^RESULT (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {(done.stderr or done.stdout)[-2000:]}")
    raw = json.loads(found.group(1))
    if raw["bad_status"] or raw["socket_errors"]:
        raise RuntimeError(f"{raw['bad_status']} answers were not 200 and {raw['socket_errors']} requests failed on the socket")
    if len(paths) > 1 and raw["requests"] > len(paths):
        raise RuntimeError(f"{raw['requests']} requests went through only {len(paths)} distinct paths: give more paths or fewer seconds")
    elapsed = raw["micros"] / 1e6
    return {
        "requests": raw["requests"],
        "seconds": round(elapsed, 3),
        "requests_per_s": round(raw["requests"] / elapsed, 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "distinct_paths": min(len(paths), raw["requests"]),
    }


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[1]).read_text())
    print(json.dumps(run(spec["url"], spec["token"], spec["paths"], spec.get("connections", 50), spec.get("seconds", 10))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
