"""Run an Amazon Ads Sponsored Products campaign report by hand (create, poll, download).

Credentials from the environment: AMAZON_ADS_CLIENT_ID, AMAZON_ADS_CLIENT_SECRET,
AMAZON_ADS_REFRESH_TOKEN, and AMAZON_ADS_TOKEN_URL (optional; the sandbox's is
http://127.0.0.1:PORT/amazon_ads/auth/o2/token).
"""

from __future__ import annotations

import argparse
import os

from adapters.amazon_ads.client import DEFAULT_BASE_URL, DEFAULT_TOKEN_URL, AmazonAdsReportClient
from adapters.amazon_ads.parse import report_date
from adapters.cli import add_window_options, require_env, run_extract

ENV = ("AMAZON_ADS_CLIENT_ID", "AMAZON_ADS_CLIENT_SECRET", "AMAZON_ADS_REFRESH_TOKEN")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adapters.amazon_ads", description="Daily Sponsored Products campaign report for one profile.")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL)
    parser.add_argument("--account", "--profile", dest="account", required=True, help="profile id")
    parser.add_argument("--poll-seconds", type=float, default=30.0)
    add_window_options(parser)
    args = parser.parse_args(argv)
    env = require_env(ENV)
    client = AmazonAdsReportClient(
        args.base_url,
        env["AMAZON_ADS_CLIENT_ID"],
        env["AMAZON_ADS_CLIENT_SECRET"],
        env["AMAZON_ADS_REFRESH_TOKEN"],
        token_url=os.environ.get("AMAZON_ADS_TOKEN_URL") or DEFAULT_TOKEN_URL,
    )
    return run_extract(
        lambda: client.fetch_campaign_report(args.account, args.since, args.until, poll_seconds=args.poll_seconds),
        report_date,
        args.out,
    )


if __name__ == "__main__":
    raise SystemExit(main())
