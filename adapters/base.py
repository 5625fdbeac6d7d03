"""What every adapter yields: one ``Page`` per API response."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Page:
    """One response, untouched, with the report rows parsed from it.

    ``body``: the bytes as received (what the lake stores), except that a credential the
    API echoes back (Meta's ``paging.next`` carries the access token) is masked.
    ``records``: the report rows in that body (what the raw tables store, one per row).
    ``request``: ``method``, ``url`` and ``path`` (secrets removed) and the non-secret
    ``params`` that produced the body, for the manifest and for debugging.
    """

    body: bytes
    records: list[dict]
    request: dict = field(default_factory=dict)


def entity_report_date(record: dict) -> None:
    """Entity lists (campaigns, ad groups) are not about a day: their raw rows have a null report_date."""
    return None
