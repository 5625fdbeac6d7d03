"""The dashboard in a real browser: headless Chromium (the system's, driven by Playwright) on the reporting
service of the demo world (tests/conftest.py `reporting_api`). Each page's screenshot lands in .local/screens/."""

from __future__ import annotations

import shutil
import time
from urllib.parse import urlsplit

import pytest
from api_harness import REPO, WS

from ads_elt.alerts import links

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("demo")]

SCREENS = REPO / ".local" / "screens"


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "headless Chromium is missing: `make test` installs the Debian package `chromium`"
    return path


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield b
        b.close()


class Page:
    """One page load: its console errors and failed requests, its DOM facts, a screenshot."""

    def __init__(self, browser, url: str, name: str | None = None):
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.page.set_default_timeout(15_000)
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))
        self.response = self.page.goto(url)
        self.page.wait_for_load_state("networkidle")
        if name:
            SCREENS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)

    def text(self) -> str:
        return self.page.inner_text("body")

    def charts(self) -> dict[str, int]:
        """Per chart container: how many drawn marks (SVG paths with geometry) it holds."""
        return self.page.evaluate(
            """() => Object.fromEntries([...document.querySelectorAll('[data-chart]')].map(el =>
                [el.dataset.chart, [...el.querySelectorAll('svg path')].filter(p => (p.getAttribute('d') || '').length > 20).length]))"""
        )

    def close(self):
        self.page.close()


def signed(api, path: str, workspace: str = WS, days: float = 1, now: float | None = None) -> str:
    return links.sign_url(api.url + path, api.signing_key, workspace, ttl_days=days, now=now)


def campaign_names(api, platform: str | None = None) -> set[str]:
    rows = api.query(
        "select distinct campaign_name from marts.mart_campaign_kpis_daily where workspace_id = %s "
        "and date_day > (select max(date_day) - 28 from marts.mart_campaign_kpis_daily) and (%s::text is null or platform = %s)",
        (WS, platform, platform),
    )
    return {r[0] for r in rows}


def test_the_workspace_page_draws_spend_revenue_and_roas_by_platform_and_lists_every_campaign(reporting_api, browser):
    page = Page(browser, signed(reporting_api, f"/dashboard/{WS}"), "workspace")
    try:
        assert page.response.status == 200 and page.errors == []
        text = page.text()
        names = campaign_names(reporting_api)
        assert len(names) >= 5 and all(n in text for n in names), names
        charts = page.charts()
        assert set(charts) == {"spend", "revenue", "roas"} and all(n >= 3 for n in charts.values()), charts
        legend = page.page.inner_text("#chart-roas")
        assert "blended" in legend
        platform = Page(browser, signed(reporting_api, f"/dashboard/{WS}") + "&platform=meta")  # a filter in the URL
        try:
            shown = platform.text()
            assert all(n in shown for n in campaign_names(reporting_api, "meta"))
            assert not any(n in shown for n in campaign_names(reporting_api) - campaign_names(reporting_api, "meta"))
        finally:
            platform.close()
    finally:
        page.close()


def test_an_alerts_dashboard_url_opens_its_campaign_with_the_band_and_the_alert(reporting_api, browser):
    (alert_id, url, name), = reporting_api.query(
        "select alert_id, dashboard_url, campaign_name from marts.mart_alerts where workspace_id = %s and entity_type = 'campaign' "
        "and metric in ('roas', 'spend') order by date_day desc, alert_id limit 1",
        (WS,),
    )
    parts = urlsplit(url)
    assert parts.path.startswith(f"/dashboard/{WS}/campaigns/")  # the demo registry's dashboard_url points at the service
    page = Page(browser, signed(reporting_api, f"{parts.path}?{parts.query}"), "campaign")
    try:
        assert page.response.status == 200 and page.errors == []
        assert page.page.inner_text("h1").startswith(name)
        assert page.page.locator(f'tr[data-alert-id="{alert_id}"]').count() == 1
        charts = page.charts()
        assert set(charts) == {"roas", "spend"} and all(n >= 2 for n in charts.values()), charts
        legend = page.page.inner_text("#chart-roas") + page.page.inner_text("#chart-spend")
        assert "expected range" in legend and "alerts" in legend  # the anomaly band and the alert markers
    finally:
        page.close()


def test_the_sync_status_page_lists_each_account_with_its_data_through(reporting_api, browser):
    page = Page(browser, signed(reporting_api, f"/dashboard/{WS}/sync"), "sync")
    try:
        assert page.response.status == 200 and page.errors == []
        text = page.text()
        for platform, account, through in reporting_api.query(
            "select platform, account_id, last_success_window_end from ops.sync_state where workspace_id = %s", (WS,)
        ):
            assert account in text and through.isoformat() in text, (platform, account)
    finally:
        page.close()


def test_acknowledging_in_the_browser_changes_the_alerts_state(reporting_api, browser):
    (alert_id, alert_key, day), = reporting_api.query(
        "select alert_id, alert_key, date_day from marts.mart_alerts where workspace_id = %s and entity_type = 'campaign' "
        "order by date_day desc, alert_id limit 1",
        (WS,),
    )
    # the API tests on this warehouse acknowledge, snooze and resolve alerts: this one is open again
    reporting_api.query(
        "update ops.alert_log set state = 'open', state_until = null, state_changed_by = null where alert_key = %s", (alert_key,)
    )
    page = Page(browser, signed(reporting_api, f"/dashboard/{WS}") + f"&date={day}")
    try:
        row = page.page.locator(f'table.alerts tr[data-alert-id="{alert_id}"]')
        assert row.locator("button").count() == 1
        with page.page.expect_navigation():
            row.locator("button").click()
        page.page.wait_for_load_state("networkidle")
        assert page.errors == []
        assert "acknowledged" in page.page.inner_text(f'tr[data-alert-id="{alert_id}"] td.state')
        assert reporting_api.query("select state, state_changed_by from ops.alert_log where alert_id = %s", (alert_id,)) == [
            ("acknowledged", "dashboard")
        ]
    finally:
        page.close()


def test_an_expired_or_forged_link_gets_a_403_page_and_a_missing_workspace_a_404(reporting_api, browser):
    expired = signed(reporting_api, f"/dashboard/{WS}", days=1, now=time.time() - 3 * 86400)
    page = Page(browser, expired)
    try:
        assert page.response.status == 403 and "expired" in page.text()
    finally:
        page.close()
    good = signed(reporting_api, f"/dashboard/{WS}")
    for forged in (good[:-4] + "0000", good.replace(f"/dashboard/{WS}", "/dashboard/lumen_eu"), reporting_api.url + f"/dashboard/{WS}"):
        page = Page(browser, forged)
        try:
            assert page.response.status == 403 and "not valid" in page.text(), forged
        finally:
            page.close()
    page = Page(browser, signed(reporting_api, "/dashboard/nowhere", workspace="nowhere"))
    try:
        assert page.response.status == 404
    finally:
        page.close()


def test_a_digest_chart_is_served_only_at_its_signed_url(reporting_api):
    rows = reporting_api.query(
        "select alert_id, workspace_id from ops.alert_log where chart_path is not null and workspace_id = %s limit 1", (WS,)
    )
    assert rows, "the demo's first run renders a chart for each digest"
    alert_id, ws = rows[0]
    url = links.sign_url(f"{reporting_api.url}/charts/{alert_id}.png", reporting_api.signing_key, ws)
    r = reporting_api.http.get(url, timeout=30)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content[:4] == b"\x89PNG"
    assert reporting_api.http.get(f"{reporting_api.url}/charts/{alert_id}.png", timeout=30).status_code == 403
    other = links.sign_url(f"{reporting_api.url}/charts/{alert_id}.png", reporting_api.signing_key, "lumen_eu")
    assert reporting_api.http.get(other, timeout=30).status_code == 403
