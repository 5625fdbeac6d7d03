"""File drops from the world: the CSV (or JSON) export a platform without an API would give.

The demo's file-drop account exports Pinterest-style columns; the registry's
``file_drop.columns`` maps them to the canonical fields. ``drop_file`` writes one
export into ``<inbox root>/<workspace>/<account>/`` as the merchant would.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

from sandbox.platforms.base import AdTraits

# Column headers of the demo export (Pinterest Ads Manager style) per canonical field.
DEMO_COLUMNS = {
    "date": "Date",
    "campaign_id": "Campaign ID",
    "campaign_name": "Campaign name",
    "spend": "Spend in account currency",
    "impressions": "Impressions",
    "clicks": "Pin clicks",
    "conversions": "Checkouts",
    "conversion_value": "Checkout value",
}
DEMO_DATE_FORMAT = "%d/%m/%Y"

TRAITS = AdTraits(utm_sources=(("pinterest", "paid_social"),), store_orders_per_conversion=0.4)


def export_rows(world, account_id: str, since: date, until: date, as_of: date | None = None) -> list[dict]:
    rows = []
    for row in world.truth_rows("file_drop", account_id, since, until, as_of=as_of):
        rows.append(
            {
                DEMO_COLUMNS["date"]: row["date"].strftime(DEMO_DATE_FORMAT),
                DEMO_COLUMNS["campaign_id"]: row["campaign_id"],
                DEMO_COLUMNS["campaign_name"]: row["campaign_name"],
                DEMO_COLUMNS["spend"]: f"{row['spend']:.2f}",
                DEMO_COLUMNS["impressions"]: str(row["impressions"]),
                DEMO_COLUMNS["clicks"]: str(row["clicks"]),
                DEMO_COLUMNS["conversions"]: str(row["conversions"]),
                DEMO_COLUMNS["conversion_value"]: f"{row['conversion_value']:.2f}",
            }
        )
    return rows


def export_csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(DEMO_COLUMNS.values()), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


def export_json(rows: list[dict]) -> bytes:
    return json.dumps(rows, indent=1).encode()


def inbox(root: Path, workspace_id: str, account_id: str) -> Path:
    return Path(root) / workspace_id / account_id


def drop_file(root: Path, workspace_id: str, account_id: str, name: str, content: bytes) -> Path:
    folder = inbox(root, workspace_id, account_id)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.part"
    tmp.write_bytes(content)
    target = folder / name
    tmp.replace(target)  # appears whole, never half-written
    return target


def drop_demo_exports(world, root: Path, since: date, until: date, as_of: date | None = None) -> list[Path]:
    """One CSV export per file-drop account of the world, covering ``since..until``."""
    written = []
    for account in world.accounts_for("file_drop"):
        content = export_csv(export_rows(world, account.account_id, since, until, as_of))
        written.append(drop_file(root, account.workspace_id, account.account_id, f"export-{since}-{until}.csv", content))
    return written


# The demo world's accounts on this platform (fields: sandbox.world.demo_accounts).
DEMO_ACCOUNTS = (
    {
        "order": 11,
        "account_id": "harbor_pinterest",
        "workspace_id": "harbor_uk",
        "currency": "GBP",
        "timezone": "Europe/London",
        "name": "Harbor Tea - Pinterest (file drop)",
        "campaigns": (
            {"campaign_id": "626744000001", "name": "Pins - Afternoon Tea", "daily_spend": 500.0, "cpm": 5.0, "ctr": 0.01, "cvr": 0.05, "aov": 32.0},
            {"campaign_id": "626744000002", "name": "Pins - Tea Gifts", "daily_spend": 400.0, "cpm": 6.0, "ctr": 0.01, "cvr": 0.05, "aov": 40.0},
        ),
    },
)
