"""Pull one Shopify shop's orders by hand (token: SHOPIFY_ACCESS_TOKEN).

    SHOPIFY_ACCESS_TOKEN=... python -m adapters.shopify --base-url https://northwind-outdoor.myshopify.com \\
        --store northwind-outdoor --timezone America/New_York --since 2026-11-07 --until 2026-11-20
"""

from adapters.shopify.client import ShopifyOrdersClient, report_date
from adapters.stores import store_cli


def main(argv: list[str] | None = None) -> int:
    return store_cli(
        "shopify", argv, ["SHOPIFY_ACCESS_TOKEN"], lambda url, env: ShopifyOrdersClient(url, env["SHOPIFY_ACCESS_TOKEN"]), report_date
    )


if __name__ == "__main__":
    raise SystemExit(main())
