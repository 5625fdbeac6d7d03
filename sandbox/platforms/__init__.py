"""Sandbox servers for TikTok, Snapchat, LinkedIn, Amazon Ads and the stores (Shopify, WooCommerce,
Salla, Zid), and the file-drop generator.

Each platform is a ``PlatformApi`` bound to the ``SandboxServer`` (its world, clock
and credentials) that contributes routes under its own path prefix
(``/tiktok``, ``/snapchat``, ``/linkedin``, ``/amazon_ads``). Tests reach a
platform's state through ``server.platform_api(name)``: scripted error answers
(``script(...)``), token expiry, its clock, and counters of what it served.
"""

from __future__ import annotations

import secrets


def platform_apis(server) -> dict:
    """One API object per platform, bound to ``server``."""
    from sandbox.platforms.amazon_ads import AmazonAdsApi
    from sandbox.platforms.linkedin import LinkedInApi
    from sandbox.platforms.salla import SallaApi
    from sandbox.platforms.shopify import ShopifyApi
    from sandbox.platforms.snapchat import SnapchatApi
    from sandbox.platforms.tiktok import TikTokApi
    from sandbox.platforms.woocommerce import WooCommerceApi
    from sandbox.platforms.zid import ZidApi

    apis = (TikTokApi, SnapchatApi, LinkedInApi, AmazonAdsApi, ShopifyApi, WooCommerceApi, SallaApi, ZidApi)
    return {api.platform: api for api in (cls(server) for cls in apis)}


def generate_platform_credentials() -> dict:
    """Random credentials for the platforms served here (same keys as their Connections need)."""
    return {
        "tiktok": {"access_token": secrets.token_hex(20)},
        "snapchat": {
            "client_id": secrets.token_hex(16),
            "client_secret": secrets.token_urlsafe(24),
            "refresh_token": "snap-refresh-" + secrets.token_urlsafe(32),
        },
        "linkedin": {
            "client_id": secrets.token_hex(7),
            "client_secret": secrets.token_urlsafe(16),
            "refresh_token": "AQX" + secrets.token_urlsafe(40),
        },
        "amazon_ads": {
            "client_id": "amzn1.application-oa2-client." + secrets.token_hex(16),
            "client_secret": "amzn1.oa2-cs.v1." + secrets.token_hex(24),
            "refresh_token": "Atzr|" + secrets.token_urlsafe(48),
        },
        **generate_store_credentials(),
    }


def generate_store_credentials() -> dict:
    """Random credentials for the store APIs (one set per platform, shared by its sandbox stores)."""
    return {
        "shopify": {"access_token": "shpat_" + secrets.token_hex(16)},
        "woocommerce": {"consumer_key": "ck_" + secrets.token_hex(20), "consumer_secret": "cs_" + secrets.token_hex(20)},
        "salla": {"access_token": "ory_at_" + secrets.token_urlsafe(32)},
        "zid": {"authorization": secrets.token_urlsafe(40), "manager_token": secrets.token_urlsafe(40)},
    }
