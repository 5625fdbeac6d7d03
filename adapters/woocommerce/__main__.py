"""Pull one WooCommerce site's orders by hand (WOOCOMMERCE_CONSUMER_KEY, WOOCOMMERCE_CONSUMER_SECRET).

    python -m adapters.woocommerce --base-url https://shop.example --store lumen-home \\
        --timezone Europe/Berlin --since 2026-11-07 --until 2026-11-20
"""

from adapters.stores import store_cli
from adapters.woocommerce.client import WooCommerceOrdersClient, report_date

ENV = ["WOOCOMMERCE_CONSUMER_KEY", "WOOCOMMERCE_CONSUMER_SECRET"]


def main(argv: list[str] | None = None) -> int:
    return store_cli("woocommerce", argv, ENV, lambda url, env: WooCommerceOrdersClient(url, *(env[n] for n in ENV)), report_date)


if __name__ == "__main__":
    raise SystemExit(main())
