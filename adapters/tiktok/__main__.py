"""Run a TikTok campaign report extract by hand, without Airflow (token: TIKTOK_ACCESS_TOKEN).

    TIKTOK_ACCESS_TOKEN=... python -m adapters.tiktok --base-url http://127.0.0.1:8765/tiktok \\
        --account 7100000000000001 --since 2026-11-01 --until 2026-11-19
"""

from __future__ import annotations

import argparse

from adapters.cli import add_window_options, require_env, run_extract
from adapters.tiktok.client import DEFAULT_BASE_URL, TikTokReportClient
from adapters.tiktok.parse import report_date


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adapters.tiktok", description="Daily campaign report for one advertiser.")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL)
    parser.add_argument("--account", required=True, help="advertiser id")
    add_window_options(parser)
    args = parser.parse_args(argv)
    client = TikTokReportClient(args.base_url, require_env(["TIKTOK_ACCESS_TOKEN"])["TIKTOK_ACCESS_TOKEN"])
    return run_extract(lambda: client.fetch_campaign_report(args.account, args.since, args.until), report_date, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
