"""Check a dropped file against a column mapping, without Airflow.

    python -m adapters.file_drop report.csv --format csv \\
        --column date=Date --column campaign_id="Campaign ID" --column spend=Spend ...

Prints the good rows' count per day and every bad row with its line and reason.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from adapters.file_drop.parse import FORMATS, FileDropFormat, parse_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adapters.file_drop", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--format", choices=FORMATS, required=True)
    parser.add_argument("--column", action="append", default=[], help="field=column header (repeat)")
    parser.add_argument("--date-format", default="%Y-%m-%d")
    parser.add_argument("--delimiter", default=",")
    args = parser.parse_args(argv)
    columns = dict(c.split("=", 1) for c in args.column)
    parsed = parse_file(args.file.name, args.file.read_bytes(), FileDropFormat(args.format, columns, args.date_format, args.delimiter))
    print(
        json.dumps(
            {
                "file": args.file.name,
                "error": parsed.error,
                "rows": len(parsed.rows),
                "rows_per_day": dict(sorted(Counter(r["date"] for r in parsed.rows).items())),
                "bad_rows": [{"line": b.line_number, "reason": b.reason} for b in parsed.bad_rows],
            },
            indent=2,
        )
    )
    return 1 if parsed.error else 0


if __name__ == "__main__":
    raise SystemExit(main())
