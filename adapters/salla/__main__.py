"""Pull one Salla store's orders by hand (token: SALLA_ACCESS_TOKEN).

    SALLA_ACCESS_TOKEN=... python -m adapters.salla --store 1456832901 --timezone Asia/Riyadh \\
        --since 2026-11-07 --until 2026-11-20
"""

from adapters.salla.client import DEFAULT_BASE_URL, SallaOrdersClient, report_date
from adapters.stores import store_cli


def main(argv: list[str] | None = None) -> int:
    return store_cli(
        "salla", argv, ["SALLA_ACCESS_TOKEN"], lambda url, env: SallaOrdersClient(url, env["SALLA_ACCESS_TOKEN"]), report_date, DEFAULT_BASE_URL
    )


if __name__ == "__main__":
    raise SystemExit(main())
