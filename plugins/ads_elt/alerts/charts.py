"""The chart sent with each alert digest: the alerted metrics' last 60 days.

One panel per alerted entity and metric (the most severe first, at most
`MAX_PANELS`): the daily value, the baseline median and its normal band
(median +- threshold x robust sigma, as scored that day) from
`marts.mart_anomalies`, and the alert day marked. Rendered with matplotlib's
Agg backend to a PNG under the alert artifacts folder:
`$ADS_ELT_ALERT_ARTIFACTS` (default `.local/alerts`) /<date>/<workspace>-part<n>.png.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ads_elt.registry import REPO_ROOT

HISTORY_DAYS = 60
MAX_PANELS = 4
CHARTABLE = {"spend", "ctr", "cvr", "cpa", "roas"}


def artifacts_dir() -> Path:
    """`ADS_ELT_ALERT_ARTIFACTS`, else `alerts/` beside a local lake root, else `.local/alerts`."""
    if os.environ.get("ADS_ELT_ALERT_ARTIFACTS"):
        return Path(os.environ["ADS_ELT_ALERT_ARTIFACTS"])
    lake = os.environ.get("ADS_ELT_LAKE_ROOT", "")
    if lake.startswith("file://"):
        return Path(lake[len("file://") :]).parent / "alerts"
    return REPO_ROOT / ".local" / "alerts"


def fetch_series(conn, alert: Any, days: int = HISTORY_DAYS) -> list[tuple]:
    """(date_day, value, baseline_median, robust_sigma, z_threshold) for the alert's entity and metric."""
    with conn.cursor() as cur:
        cur.execute(
            "select date_day, value, baseline_median, robust_sigma, z_threshold from marts.mart_anomalies "
            "where workspace_id = %s and platform = %s and campaign_id = %s and metric = %s "
            "and date_day between %s and %s order by date_day",
            (
                alert.workspace_id,
                alert.platform,
                alert.campaign_id,
                alert.metric,
                alert.date_day - timedelta(days=days - 1),
                alert.date_day,
            ),
        )
        return cur.fetchall()


def render(panels: Sequence[tuple[str, str, date, list[tuple]]], path: Path) -> Path:
    """Draw panels (title, metric, alert day, series rows) into one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 2.6 * len(panels)), squeeze=False)
    for ax, (title, metric, day, rows) in zip(axes[:, 0], panels, strict=False):
        days = [r[0] for r in rows]
        value = [None if r[1] is None else float(r[1]) for r in rows]
        median = [None if r[2] is None else float(r[2]) for r in rows]
        band = [
            None if r[2] is None or r[3] is None or r[4] is None else float(r[4]) * float(r[3]) for r in rows
        ]
        low = [m - b if m is not None and b is not None else float("nan") for m, b in zip(median, band, strict=False)]
        high = [m + b if m is not None and b is not None else float("nan") for m, b in zip(median, band, strict=False)]
        ax.fill_between(days, low, high, color="#9ecae1", alpha=0.5, label="normal band")
        ax.plot(days, [float("nan") if m is None else m for m in median], color="#3182bd", linewidth=1, label="baseline median")
        ax.plot(days, [float("nan") if v is None else v for v in value], color="#333333", linewidth=1.4, label=metric)
        marked = [(d, v) for d, v in zip(days, value, strict=False) if d == day and v is not None]
        if marked:
            ax.scatter([marked[0][0]], [marked[0][1]], color="#d62728", s=60, zorder=5, label="alert")
        ax.set_title(title, fontsize=9, loc="left")
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, loc="upper left")
    fig.autofmt_xdate()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)
    return path


def digest_chart(conn, ws: Any, alerts: Sequence[Any], part: int = 1) -> Path | None:
    """The PNG for one workspace digest, or None when no alerted metric has a series."""
    from ads_elt.alerts.formatting import metric_label, platform_label

    panels = []
    seen = set()
    for a in alerts:
        key = (a.platform, a.campaign_id, a.metric)
        if a.metric not in CHARTABLE or key in seen:
            continue
        seen.add(key)
        rows = fetch_series(conn, a)
        if rows:
            title = f"{a.campaign_name} · {platform_label(a.platform)} · {metric_label(a.metric)} ({a.severity})"
            panels.append((title, a.metric, a.date_day, rows))
        if len(panels) >= MAX_PANELS:
            break
    if not panels:
        return None
    day = max(a.date_day for a in alerts)
    return render(panels, artifacts_dir() / day.isoformat() / f"{ws.workspace_id}-part{part}.png")
