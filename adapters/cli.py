"""Shared bits of ``python -m adapters.<platform>``: dates, output, exit codes."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from adapters.base import Page
from adapters.errors import AdapterError

EXIT_ADAPTER_ERROR = 2


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def add_window_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=iso_date, required=True, help="first day (YYYY-MM-DD)")
    parser.add_argument("--until", type=iso_date, required=True, help="last day, inclusive")
    parser.add_argument(
        "--out",
        type=Path,
        help="folder to write page-00001.json, ... (bodies untouched) and request.json; without it, print a summary only",
    )


def require_env(names: Iterable[str]) -> dict[str, str]:
    values = {name: os.environ.get(name, "") for name in names}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise SystemExit(f"missing environment variable(s): {', '.join(missing)}")
    return values


def run_extract(
    pages: Callable[[], Iterable[Page]],
    report_date: Callable[[dict], date],
    out: Path | None,
) -> int:
    """Drain ``pages``, write them to ``out`` if given, print a summary; 2 on adapter errors."""
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    page_count = 0
    per_day: Counter[str] = Counter()
    requests = []
    try:
        for page in pages():
            page_count += 1
            for record in page.records:
                per_day[report_date(record).isoformat()] += 1
            requests.append(page.request)
            if out is not None:
                (out / f"page-{page_count:05d}.json").write_bytes(page.body)
    except AdapterError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_ADAPTER_ERROR
    if out is not None:
        (out / "request.json").write_text(json.dumps(requests, indent=2))
    summary = {
        "pages": page_count,
        "records": sum(per_day.values()),
        "first_day": min(per_day) if per_day else None,
        "last_day": max(per_day) if per_day else None,
        "records_per_day": dict(sorted(per_day.items())),
    }
    if out is not None:
        summary["written_to"] = str(out)
    print(json.dumps(summary, indent=2))
    return 0
