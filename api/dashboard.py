"""The dashboard: server-rendered pages a marketer opens from an alert, and the digest charts.

Pages are reached with a signed, expiring link for one workspace (``ads_elt.alerts.links``:
`exp` and `sig` in the query, kept on every link of the page) or with an API token
(`Authorization: Bearer`). Filters live in the URL: platform, date, days. An expired or
forged link answers a 403 page.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from ads_elt.alerts import links
from api import queries
from api.errors import MAX_RANGE_DAYS, ApiError, not_found, parse_day
from api.security import lookup
from api.templating import templates

PLATFORM_TOTAL = "all"
BAND_METRICS = ("roas", "spend")


class Access:
    """How this request may see a workspace: a signed link (carried on) or a bearer token."""

    def __init__(self, request: Request, ws: str):
        self.ws = ws
        self.request = request
        q = request.query_params
        self.exp, self.sig = q.get(links.EXP_PARAM), q.get(links.SIG_PARAM)
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            with request.app.state.warehouse.cursor() as cur:
                who = lookup(cur, header[7:].strip())
            if who is None or not who.may_see(ws):
                raise ApiError(403, "this token may not open this workspace's dashboard")
            self.exp = self.sig = None
        else:
            problem = links.verify(request.app.state.settings.signing_key, ws, self.exp, self.sig)
            if problem == "expired":
                raise ApiError(403, "This dashboard link has expired. Open the latest alert again for a fresh link.")
            if problem:
                raise ApiError(403, "This dashboard link is not valid (it was changed or never signed).")
        with request.app.state.warehouse.cursor() as cur:
            if not queries.workspace_exists(cur, ws):
                raise not_found(f"workspace {ws!r}")

    def auth(self) -> dict[str, str]:
        return {links.EXP_PARAM: self.exp, links.SIG_PARAM: self.sig} if self.sig else {}

    def url(self, path: str, **params: Any) -> str:
        query = {k: v for k, v in params.items() if v not in (None, "")}
        query.update(self.auth())
        return f"{path}?{urlencode(query)}" if query else path


def _days(value: str | None) -> int:
    if value in (None, ""):
        return 28
    try:
        days = int(value)
    except ValueError:
        raise ApiError(422, f"days: {value!r} is not a whole number", "days") from None
    if not 1 <= days <= MAX_RANGE_DAYS:
        raise ApiError(422, f"days: {days} is not between 1 and {MAX_RANGE_DAYS}", "days")
    return days


def _series(rows: list[dict[str, Any]], key: str, value: str) -> list[dict[str, Any]]:
    out: dict[str, list] = {}
    for r in rows:
        v = r.get(value)
        out.setdefault(r[key], []).append([r["date_day"].isoformat(), None if v is None else round(float(v), 4)])
    return [{"name": name, "data": data} for name, data in out.items()]


def page(request: Request, template: str, access: Access, day: date, platform: str | None = None, **context: Any) -> HTMLResponse:
    """A dashboard page with what every page carries: the link's auth for its forms, the navigation, its own URL."""
    ws = access.ws
    nav = {
        "workspace": access.url(f"/dashboard/{ws}", date=day.isoformat(), platform=platform),
        "sync": access.url(f"/dashboard/{ws}/sync"),
    }
    here = request.url.path + ("?" + request.url.query if request.url.query else "")
    return templates.TemplateResponse(
        request, template, {"ws": ws, "day": day, "platform": platform, "auth": access.auth(), "nav": nav, "here": here, **context}
    )


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/dashboard/{ws}", response_class=HTMLResponse)
    def workspace_page(request: Request, ws: str, platform: str | None = None, days: str | None = None):
        access = Access(request, ws)
        day_ = parse_day(request.query_params.get("date"), "date")
        n = _days(days)
        with request.app.state.warehouse.cursor() as cur:
            day_ = day_ or queries.latest_day(cur, ws) or date.today()
            start = day_ - timedelta(days=n - 1)
            series = queries.platform_series(cur, ws, start, day_)
            platforms = sorted({r["platform"] for r in series if r["platform"] != PLATFORM_TOTAL})
            if platform and platform not in platforms:
                raise not_found(f"platform {platform!r} in workspace {ws!r}")
            shown = [r for r in series if r["platform"] != PLATFORM_TOTAL and (not platform or r["platform"] == platform)]
            total = [r for r in series if r["platform"] == PLATFORM_TOTAL]
            alerts = queries.alerts(cur, ws, day_, day_, platform=platform)
            campaigns = queries.campaigns(cur, ws, day_, platform)
        currency = series[0]["reporting_currency"] if series else ""
        roas = _series(shown, "platform", "platform_roas")
        if not platform:
            roas += [
                {"name": "all platforms", "data": s["data"]} for s in _series(total, "platform", "platform_roas")
            ] + [{"name": "blended (store revenue / spend)", "data": s["data"]} for s in _series(total, "platform", "blended_roas")]
        charts = [
            {"id": "spend", "title": f"Spend by platform ({currency})", "kind": "stack", "series": _series(shown, "platform", "spend")},
            {
                "id": "revenue",
                "title": f"Revenue the platforms claim, and the stores' ({currency})",
                "kind": "line",
                "series": _series(shown, "platform", "platform_revenue")
                + ([{"name": "stores", "data": s["data"]} for s in _series(total, "platform", "store_revenue")] if not platform else []),
            },
            {"id": "roas", "title": "ROAS and blended ROAS", "kind": "line", "series": roas},
        ]
        for c in campaigns:
            c["url"] = access.url(f"/dashboard/{ws}/campaigns/{c['platform']}/{c['campaign_id']}", date=day_.isoformat())
        for a in alerts:
            a["ack_url"] = access.url(f"/dashboard/{ws}/alerts/{a['alert_id']}/ack")
            if a["campaign_id"] and a["campaign_id"] != PLATFORM_TOTAL:
                a["url"] = access.url(f"/dashboard/{ws}/campaigns/{a['platform']}/{a['campaign_id']}", date=day_.isoformat())
        return page(
            request, "workspace.html", access, day_, platform,
            title=f"{ws} · {day_}", days=n, platforms=platforms, charts=charts, alerts=alerts,
            campaigns=campaigns, currency=currency,
        )  # fmt: skip

    @r.get("/dashboard/{ws}/campaigns/{platform}/{campaign_id}", response_class=HTMLResponse)
    def campaign_page(request: Request, ws: str, platform: str, campaign_id: str, days: str | None = None):
        access = Access(request, ws)
        day_ = parse_day(request.query_params.get("date"), "date")
        if campaign_id == PLATFORM_TOTAL:  # a platform's or the workspace's alert: the workspace page, filtered
            target = access.url(f"/dashboard/{ws}", date=day_ and day_.isoformat(), platform=None if platform == PLATFORM_TOTAL else platform)
            return RedirectResponse(target, status_code=303)
        n = _days(days)
        with request.app.state.warehouse.cursor() as cur:
            found = queries.campaign(cur, ws, platform, campaign_id)
            if found is None:
                raise not_found(f"campaign {platform}/{campaign_id} in workspace {ws!r}")
            day_ = day_ or queries.latest_day(cur, ws) or date.today()
            start = day_ - timedelta(days=n - 1)
            kpis = queries.kpis(cur, ws, "campaign", start, day_, platform, campaign_id)
            points = queries.anomalies(cur, ws, start, day_, platform, campaign_id, None, flagged_only=False)
            alerts = queries.alerts(cur, ws, start, day_, platform=platform, campaign_id=campaign_id)
        charts = []
        for metric in BAND_METRICS:
            scored = [p for p in points if p["metric"] == metric and p["entity_type"] == "campaign" and p["is_scored"]]
            band = [
                [
                    p["date_day"].isoformat(),
                    round(float(p["baseline_median"]) - float(p["z_threshold"]) * float(p["robust_sigma"]), 4),
                    round(float(p["baseline_median"]) + float(p["z_threshold"]) * float(p["robust_sigma"]), 4),
                ]
                for p in scored
                if p["baseline_median"] is not None and p["robust_sigma"] is not None and p["z_threshold"] is not None
            ]
            values = {r["date_day"]: r[metric] for r in kpis}
            markers = [
                [a["date_day"].isoformat(), None if values.get(a["date_day"]) is None else float(values[a["date_day"]]), f"{a['signal']} ({a['severity']})"]
                for a in alerts
                if a["metric"] == metric or (metric == "roas" and a["metric"] not in BAND_METRICS)
            ]
            charts.append(
                {
                    "id": metric,
                    "title": ("ROAS" if metric == "roas" else f"Spend ({found['currency']})") + " with the expected band",
                    "kind": "line",
                    "series": _series(kpis, "campaign_name", metric),
                    "band": band,
                    "markers": markers,
                }
            )
        for a in alerts:
            a["ack_url"] = access.url(f"/dashboard/{ws}/alerts/{a['alert_id']}/ack")
        return page(
            request, "campaign.html", access, day_, platform,
            title=f"{found['campaign_name']} · {ws}", campaign=found, days=n, kpis=list(reversed(kpis)), charts=charts,
            alerts=alerts,
        )  # fmt: skip

    @r.get("/dashboard/{ws}/sync", response_class=HTMLResponse)
    def sync_page(request: Request, ws: str):
        access = Access(request, ws)
        with request.app.state.warehouse.cursor() as cur:
            accounts = queries.sync_status(cur, ws)
            day_ = queries.latest_day(cur, ws) or date.today()
        return page(request, "sync.html", access, day_, title=f"Sync status · {ws}", accounts=accounts)

    @r.post("/dashboard/{ws}/alerts/{alert_id}/ack")
    def ack(request: Request, ws: str, alert_id: str, next: str = Form("/")):
        access = Access(request, ws)
        with request.app.state.warehouse.connection(write=True) as conn, conn.cursor() as cur:
            if queries.change_alert_state(cur, ws, alert_id, "acknowledged", None, "dashboard") is None:
                raise not_found(f"alert {alert_id!r}")
        target = next if next.startswith(f"/dashboard/{ws}") else access.url(f"/dashboard/{ws}")
        return RedirectResponse(target, status_code=303)

    @r.get("/charts/{alert_id}.png")
    def digest_chart(request: Request, alert_id: str):
        with request.app.state.warehouse.cursor() as cur:
            found = queries.digest_chart(cur, alert_id)
        if found is None:
            raise not_found(f"chart of alert {alert_id!r}")
        ws, path = found
        problem = links.verify(request.app.state.settings.signing_key, ws, request.query_params.get("exp"), request.query_params.get("sig"))
        if problem:
            raise ApiError(403, f"this chart link is {'expired' if problem == 'expired' else 'not valid'}")
        if not path or not Path(path).is_file():
            raise not_found(f"chart of alert {alert_id!r}")
        return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})

    return r
