"""Command line: ``python -m sandbox serve ...``, ``python -m sandbox truth ...`` and ``python -m sandbox orders ...``."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
from datetime import date
from pathlib import Path

from sandbox.platforms import new_credentials
from sandbox.server import SandboxServer
from sandbox.world import PLATFORMS, World


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def _load_or_create_credentials(path: str | None) -> tuple[dict, str]:
    """Read credentials from ``path``; create it (mode 600) with random ones if missing."""
    if path and Path(path).exists():
        return json.loads(Path(path).read_text()), path
    credentials = new_credentials()
    if path is None:
        fd, path = tempfile.mkstemp(prefix="sandbox-credentials-", suffix=".json")
        os.close(fd)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch(mode=0o600, exist_ok=True)
    os.chmod(target, 0o600)
    target.write_text(json.dumps(credentials, indent=2))
    return credentials, str(target)


def serve(args: argparse.Namespace) -> int:
    world = World.demo(args.end_date, history_days=args.history_days, seed=args.seed)
    credentials, path = _load_or_create_credentials(args.credentials_file)
    server = SandboxServer(
        world,
        host=args.host,
        port=args.port,
        credentials=credentials,
        today=args.today,
    )
    server.start()
    print(server.url, flush=True)
    print(
        f"sandbox: demo world {world.start_date}..{world.end_date}, today {server.today}; "
        f"credentials in {path}; Meta base URL {server.meta_url}, Google Ads base URL "
        f"{server.google_ads_url}, token URL {server.google_token_url}; stores: "
        + ", ".join(f"{server.url}/{s.platform}/{s.store_id}" for s in server.stores.stores),
        file=sys.stderr,
        flush=True,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    server.stop()
    return 0


def truth(args: argparse.Namespace) -> int:
    world = World.demo(args.end_date, history_days=args.history_days, seed=args.seed)
    rows = world.truth_rows(args.platform, args.account, args.since, args.until, args.as_of)
    for row in rows:
        row["date"] = row["date"].isoformat()
    json.dump(rows, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def orders(args: argparse.Namespace) -> int:
    """A store's orders with their ground truth (state as of ``--as-of``), as JSON."""
    from sandbox.stores import StoreWorld

    world = World.demo(args.end_date, history_days=args.history_days, seed=args.seed)
    rows = StoreWorld(world).orders(args.platform, args.store, args.as_of)
    json.dump(rows, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def world_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--end-date", type=_date, required=True, help="last day of the demo world")
        p.add_argument("--history-days", type=int, default=120, help="days of history (120)")
        p.add_argument("--seed", type=int, default=42, help="world seed (42)")

    p_serve = commands.add_parser("serve", help="serve the demo world until killed")
    world_options(p_serve)
    p_serve.add_argument("--host", default="127.0.0.1")
    p_serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p_serve.add_argument("--today", type=_date, help="sandbox clock (default end date + 1)")
    p_serve.add_argument(
        "--credentials-file",
        help="JSON credentials to accept; created with random ones (mode 600) if missing",
    )
    p_serve.set_defaults(func=serve)

    p_truth = commands.add_parser("truth", help="print the world's numbers as JSON")
    world_options(p_truth)
    p_truth.add_argument("--platform", choices=PLATFORMS, required=True)
    p_truth.add_argument("--account", required=True)
    p_truth.add_argument("--since", type=_date, required=True)
    p_truth.add_argument("--until", type=_date, required=True)
    p_truth.add_argument("--as-of", type=_date, help="report as of this day (end date + 1)")
    p_truth.set_defaults(func=truth)

    p_orders = commands.add_parser("orders", help="print a store's orders and their ground truth as JSON")
    world_options(p_orders)
    p_orders.add_argument("--platform", choices=("shopify", "woocommerce", "salla", "zid"), required=True)
    p_orders.add_argument("--store", required=True, help="store id, e.g. northwind-outdoor")
    p_orders.add_argument("--as-of", type=_date, help="state as of this day (end date + 1)")
    p_orders.set_defaults(func=orders)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
