"""Sandbox servers for TikTok, Snapchat, LinkedIn and Amazon Ads, and the file-drop generator.

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
    from sandbox.platforms.snapchat import SnapchatApi
    from sandbox.platforms.tiktok import TikTokApi

    return {api.platform: api for api in (TikTokApi(server), SnapchatApi(server), LinkedInApi(server), AmazonAdsApi(server))}


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
    }
