"""Registry: per-platform lookback defaults, per-account overrides, platform account id formats."""

from __future__ import annotations

from datetime import date

import pytest

from ads_elt.registry import PLATFORM_LOOKBACK_DAYS, RegistryError, load_registry, parse_registry, sync_window


def registry(accounts: list[dict], defaults: dict | None = None):
    return parse_registry(
        {
            "version": 1,
            "defaults": defaults or {},
            "workspaces": [{"id": "w", "currency": "USD", "timezone": "UTC", "accounts": accounts}],
        }
    )


def test_lookback_defaults_per_platform():
    assert {p: PLATFORM_LOOKBACK_DAYS[p] for p in ("meta", "google_ads", "tiktok", "snapchat", "linkedin", "amazon_ads")} == {
        "meta": 28,
        "google_ads": 14,
        "tiktok": 3,
        "snapchat": 7,
        "linkedin": 7,
        "amazon_ads": 3,
    }
    r = registry(
        [
            {"platform": "tiktok", "account_id": "71"},
            {"platform": "amazon_ads", "account_id": "31", "lookback_days": 10},
            {"platform": "linkedin", "account_id": "5"},
        ],
        {"lookback_days": {"linkedin": 14}},
    )
    days = {a.platform: a.lookback_days for a in r.accounts()}
    assert days == {"tiktok": 3, "amazon_ads": 10, "linkedin": 14}
    tiktok = r.accounts("tiktok")[0]
    assert sync_window(tiktok, date(2026, 11, 20), date(2026, 11, 20), 90) == (date(2026, 11, 17), date(2026, 11, 20))


def test_account_id_formats_per_platform():
    registry([{"platform": "snapchat", "account_id": "8f2b7a4e-5c1d-4e3a-9b6f-2d8c0e1a7b3c"}])
    with pytest.raises(RegistryError, match=r"accounts\[0\]\.account_id"):
        registry([{"platform": "snapchat", "account_id": "12345"}])
    with pytest.raises(RegistryError, match=r"accounts\[0\]\.account_id"):
        registry([{"platform": "tiktok", "account_id": "not-digits"}])


def test_the_demo_registry_uses_every_platform_in_three_currencies_and_time_zones():
    r = load_registry()
    assert {a.platform for a in r.accounts()} == set(PLATFORM_LOOKBACK_DAYS)
    assert len({a.currency for a in r.accounts()}) >= 3
    assert len({a.timezone for a in r.accounts()}) >= 3
