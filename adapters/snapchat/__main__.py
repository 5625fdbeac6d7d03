"""Run a Snapchat campaign stats extract by hand, without Airflow.

Credentials from the environment: SNAPCHAT_CLIENT_ID, SNAPCHAT_CLIENT_SECRET,
SNAPCHAT_REFRESH_TOKEN, and SNAPCHAT_TOKEN_URL (optional; the sandbox's is
http://127.0.0.1:PORT/snapchat/login/oauth2/access_token).
"""

from __future__ import annotations

import argparse
import os

from adapters.cli import add_window_options, require_env, run_extract
from adapters.snapchat.client import DEFAULT_BASE_URL, DEFAULT_TOKEN_URL, SnapchatStatsClient
from adapters.snapchat.parse import report_date

ENV = ("SNAPCHAT_CLIENT_ID", "SNAPCHAT_CLIENT_SECRET", "SNAPCHAT_REFRESH_TOKEN")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adapters.snapchat", description="Daily stats of every campaign of one ad account.")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL)
    parser.add_argument("--account", required=True, help="ad account id (UUID)")
    add_window_options(parser)
    args = parser.parse_args(argv)
    env = require_env(ENV)
    client = SnapchatStatsClient(
        args.base_url,
        env["SNAPCHAT_CLIENT_ID"],
        env["SNAPCHAT_CLIENT_SECRET"],
        env["SNAPCHAT_REFRESH_TOKEN"],
        token_url=os.environ.get("SNAPCHAT_TOKEN_URL") or DEFAULT_TOKEN_URL,
    )
    return run_extract(lambda: client.fetch_campaign_stats(args.account, args.since, args.until), report_date, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
