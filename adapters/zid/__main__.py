"""Pull one Zid store's orders by hand (ZID_AUTHORIZATION, ZID_MANAGER_TOKEN).

    python -m adapters.zid --store 38211 --timezone Asia/Riyadh --since 2026-11-07 --until 2026-11-20
"""

from adapters.stores import store_cli
from adapters.zid.client import DEFAULT_BASE_URL, ZidOrdersClient, report_date

ENV = ["ZID_AUTHORIZATION", "ZID_MANAGER_TOKEN"]


def main(argv: list[str] | None = None) -> int:
    return store_cli("zid", argv, ENV, lambda url, env: ZidOrdersClient(url, *(env[n] for n in ENV)), report_date, DEFAULT_BASE_URL)


if __name__ == "__main__":
    raise SystemExit(main())
