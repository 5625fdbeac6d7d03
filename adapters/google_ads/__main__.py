"""Run a Google Ads campaign performance extract by hand, without Airflow.

Credentials come from the environment, never the command line:
GOOGLE_ADS_DEVELOPER_TOKEN, GOOGLE_ADS_CLIENT_ID, GOOGLE_ADS_CLIENT_SECRET,
GOOGLE_ADS_REFRESH_TOKEN, and optionally GOOGLE_ADS_TOKEN_URL (default Google's;
the sandbox's is http://127.0.0.1:PORT/google_ads/oauth2/token) and
GOOGLE_ADS_LOGIN_CUSTOMER_ID.
"""

from __future__ import annotations

import argparse
import os

from adapters.cli import add_window_options, require_env, run_extract
from adapters.google_ads.client import (
    DEFAULT_BASE_URL,
    DEFAULT_TOKEN_URL,
    GoogleAdsClient,
)
from adapters.google_ads.parse import report_date

ENV = (
    "GOOGLE_ADS_DEVELOPER_TOKEN",
    "GOOGLE_ADS_CLIENT_ID",
    "GOOGLE_ADS_CLIENT_SECRET",
    "GOOGLE_ADS_REFRESH_TOKEN",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m adapters.google_ads",
        description="Pull daily campaign performance for one customer with searchStream. "
        "Credentials: " + ", ".join(ENV) + ", GOOGLE_ADS_TOKEN_URL (optional), "
        "GOOGLE_ADS_LOGIN_CUSTOMER_ID (optional).",
    )
    parser.add_argument(
        "--base-url",
        default=DEFAULT_BASE_URL,
        help=f"API base URL ({DEFAULT_BASE_URL})",
    )
    parser.add_argument(
        "--account",
        "--customer",
        dest="account",
        required=True,
        help="customer id (digits)",
    )
    parser.add_argument(
        "--login-customer-id",
        help="manager account id (or GOOGLE_ADS_LOGIN_CUSTOMER_ID)",
    )
    parser.add_argument("--api-version", default="v21")
    add_window_options(parser)
    args = parser.parse_args(argv)
    env = require_env(ENV)
    client = GoogleAdsClient(
        args.base_url,
        developer_token=env["GOOGLE_ADS_DEVELOPER_TOKEN"],
        client_id=env["GOOGLE_ADS_CLIENT_ID"],
        client_secret=env["GOOGLE_ADS_CLIENT_SECRET"],
        refresh_token=env["GOOGLE_ADS_REFRESH_TOKEN"],
        token_url=os.environ.get("GOOGLE_ADS_TOKEN_URL") or DEFAULT_TOKEN_URL,
        login_customer_id=args.login_customer_id or os.environ.get("GOOGLE_ADS_LOGIN_CUSTOMER_ID") or None,
        api_version=args.api_version,
    )
    return run_extract(
        lambda: client.fetch_campaign_performance(args.account, args.since, args.until),
        report_date,
        args.out,
    )


if __name__ == "__main__":
    raise SystemExit(main())
