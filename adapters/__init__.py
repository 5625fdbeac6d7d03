"""Source adapters: plain Python (stdlib + requests) that pull raw records from APIs.

The platform catalogue: every subpackage ``adapters/<platform>/`` that declares a ``SPEC``
(an ``adapters.catalogue.PlatformSpec``) is a platform; ``discover()`` walks the package and
collects them, so no list of platforms is written out anywhere. ``PLATFORMS`` maps each
platform's name to its spec and lets platform-agnostic code (the pipeline, the lake loader,
validation, the warehouse DDL, Connections, alert labels, the DAG's task groups) work with any
platform: ``PLATFORMS["meta"].parse_page(body)`` -> rows, ``.report_date(row)`` -> date,
``.report`` -> the report name used in lake paths and raw table names,
``.fetch(client, account_id, since, until)`` -> pages (None for file drops, which are read
from an inbox, not fetched).

Store orders (``STORE_PLATFORMS``) are ``zoned``: their days are the store's, so
``report_date(record, timezone)`` and ``fetch(client, store_id, since, until, timezone)``
take the store's time zone.

A platform may declare further reports in ``extra`` (finer grains, entity lists): each is a
``Report`` with its own name, parser, report date and fetch, landed in its own lake batch and
raw table (``raw.<platform>__<report>``). An entity list (``entity_list=True``: campaign lists
and the like) has no report date (``report_date`` returns None); its load replaces the
account's rows. ``PLATFORMS[p].reports()`` is the primary report followed by the extras, in the
order they are extracted; ``report_spec(platform, report)`` finds one.

``python -m adapters`` (``adapters.cli``) pulls any of these reports by hand, through the specs.
"""

from __future__ import annotations

import importlib
import pkgutil

from adapters.catalogue import ConnectionConvention, ConnectionSettings, FieldSpec, PlatformSpec, Report, SettingsError


def discover() -> dict[str, PlatformSpec]:
    """Every platform spec of the package's subpackages: ad platforms first, then stores, each by ``order``."""
    specs = []
    for module in pkgutil.iter_modules(__path__, prefix=f"{__name__}."):
        if module.ispkg:
            spec = getattr(importlib.import_module(module.name), "SPEC", None)
            if isinstance(spec, PlatformSpec):
                specs.append(spec)
    return {spec.name: spec for spec in sorted(specs, key=_position)}


def _position(spec: PlatformSpec) -> tuple:
    return (spec.store, spec.order, spec.name)


PLATFORMS: dict[str, PlatformSpec] = discover()


def ad_platforms() -> tuple[str, ...]:
    """The ad platforms of the catalogue, in the order the daily run syncs them."""
    return tuple(s.name for s in sorted(PLATFORMS.values(), key=_position) if not s.store)


def store_platforms() -> tuple[str, ...]:
    """The stores of the catalogue, in the order the daily run syncs them."""
    return tuple(s.name for s in sorted(PLATFORMS.values(), key=_position) if s.store)


AD_PLATFORMS = ad_platforms()
STORE_PLATFORMS = store_platforms()


def report_spec(platform: str, report: str) -> Report:
    """The named report of a platform; ``KeyError`` naming both when there is none."""
    if platform not in PLATFORMS:
        raise KeyError(f"unknown platform {platform!r}")
    try:
        return PLATFORMS[platform].get(report)
    except KeyError as exc:
        raise KeyError(f"{platform}: {exc.args[0]}") from None


__all__ = [
    "AD_PLATFORMS",
    "PLATFORMS",
    "STORE_PLATFORMS",
    "ConnectionConvention",
    "ConnectionSettings",
    "FieldSpec",
    "PlatformSpec",
    "Report",
    "SettingsError",
    "ad_platforms",
    "discover",
    "report_spec",
    "store_platforms",
]
