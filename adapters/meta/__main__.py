"""Run a Meta Insights extract by hand, without Airflow.

The access token comes from the environment (META_ACCESS_TOKEN), never the
command line. Example against the sandbox::

    META_ACCESS_TOKEN=... python -m adapters.meta --base-url http://127.0.0.1:8765/meta \\
        --account 1000000001 --since 2026-11-01 --until 2026-11-19 --out /tmp/meta
"""

from __future__ import annotations

import argparse

from adapters.cli import add_window_options, require_env, run_extract
from adapters.meta.client import DEFAULT_BASE_URL, MetaInsightsClient
from adapters.meta.parse import report_date


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m adapters.meta",
        description="Pull daily campaign insights for one ad account. Credentials: META_ACCESS_TOKEN.",
    )
    parser.add_argument(
        "--base-url",
        default=DEFAULT_BASE_URL,
        help=f"API base URL ({DEFAULT_BASE_URL})",
    )
    parser.add_argument("--account", required=True, help="ad account id (digits, or act_...)")
    parser.add_argument("--api-version", default="v21.0")
    parser.add_argument("--page-limit", type=int, default=500, help="rows per page (500)")
    add_window_options(parser)
    args = parser.parse_args(argv)
    token = require_env(["META_ACCESS_TOKEN"])["META_ACCESS_TOKEN"]
    client = MetaInsightsClient(args.base_url, token, api_version=args.api_version, page_limit=args.page_limit)
    return run_extract(
        lambda: client.fetch_insights(args.account, args.since, args.until),
        report_date,
        args.out,
    )


if __name__ == "__main__":
    raise SystemExit(main())
