"""Run a LinkedIn adAnalytics extract by hand, without Airflow.

Credentials from the environment: LINKEDIN_ACCESS_TOKEN, or LINKEDIN_CLIENT_ID,
LINKEDIN_CLIENT_SECRET and LINKEDIN_REFRESH_TOKEN (+ LINKEDIN_TOKEN_URL, optional).
"""

from __future__ import annotations

import argparse
import os

from adapters.cli import add_window_options, run_extract
from adapters.linkedin.client import DEFAULT_BASE_URL, LinkedInAnalyticsClient
from adapters.linkedin.parse import report_date


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adapters.linkedin", description="Daily campaign analytics for one sponsored account.")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL)
    parser.add_argument("--account", required=True, help="sponsored account id (digits)")
    parser.add_argument("--api-version", default="202411", help="LinkedIn-Version header (YYYYMM)")
    add_window_options(parser)
    args = parser.parse_args(argv)
    env = os.environ
    if not env.get("LINKEDIN_ACCESS_TOKEN") and not env.get("LINKEDIN_REFRESH_TOKEN"):
        raise SystemExit("set LINKEDIN_ACCESS_TOKEN, or LINKEDIN_CLIENT_ID, LINKEDIN_CLIENT_SECRET and LINKEDIN_REFRESH_TOKEN")
    client = LinkedInAnalyticsClient(
        args.base_url,
        access_token=env.get("LINKEDIN_ACCESS_TOKEN"),
        client_id=env.get("LINKEDIN_CLIENT_ID"),
        client_secret=env.get("LINKEDIN_CLIENT_SECRET"),
        refresh_token=env.get("LINKEDIN_REFRESH_TOKEN"),
        token_url=env.get("LINKEDIN_TOKEN_URL"),
        api_version=args.api_version,
    )
    return run_extract(lambda: client.fetch_ad_analytics(args.account, args.since, args.until), report_date, args.out)


if __name__ == "__main__":
    raise SystemExit(main())
