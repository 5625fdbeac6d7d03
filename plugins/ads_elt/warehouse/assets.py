"""The warehouse's tables as Airflow Assets.

Each load names the raw tables of its platform and each dbt task the relations it builds, so
the Assets view shows when every raw table and mart was last written and by which run, and
another DAG can be scheduled on them, e.g. ``schedule=[Asset("marts.mart_alerts")]`` for a
BI cache refresh. An Asset is named ``<schema>.<table>``; dbt's relations take their schema
and alias from the manifest.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
from airflow.sdk import Asset


class _Node(msgspec.Struct):
    name: str
    resource_type: str
    schema: str = ""
    alias: str | None = None
    tags: list[str] = []


class _Manifest(msgspec.Struct):
    nodes: dict[str, _Node]


def manifest_relations(path: Path) -> dict:
    """The manifest's nodes with only what names a relation, read at DAG parse time: decoding those fields
    of a 3 MB manifest takes about a tenth of a full `json.loads`."""
    nodes = msgspec.json.decode(path.read_bytes(), type=_Manifest).nodes
    return {"nodes": {uid: msgspec.structs.asdict(n) for uid, n in nodes.items()}}


def table_asset(schema: str, table: str) -> Asset:
    return Asset(name=f"{schema}.{table}")


def raw_assets(platform: str) -> list[Asset]:
    """The raw tables one platform's loads write (every report of its catalogue spec)."""
    from adapters import PLATFORMS

    spec = PLATFORMS[platform]
    return [table_asset("raw", spec.raw_table(r.report)) for r in spec.reports()]


def dbt_assets(manifest: dict, unique_ids: list[str]) -> list[Asset]:
    """The relations of these dbt models as the manifest names them."""
    nodes = manifest["nodes"]
    return [table_asset(nodes[uid]["schema"], nodes[uid].get("alias") or nodes[uid]["name"]) for uid in unique_ids]


def models_tagged(manifest: dict, tag: str) -> list[str]:
    return sorted(uid for uid, n in manifest["nodes"].items() if n["resource_type"] == "model" and tag in n.get("tags", []))
