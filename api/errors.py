"""Errors the service answers with, and the parsing of the parameters every route shares."""

from __future__ import annotations

from datetime import date

MAX_RANGE_DAYS = 366


class ApiError(Exception):
    """An answer other than 200: JSON under /v1, a page under /dashboard."""

    def __init__(self, status: int, detail: str, parameter: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.parameter, self.headers = status, detail, parameter, headers or {}


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


def parse_day(value: str | None, parameter: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(422, f"{parameter}: {value!r} is not a date (YYYY-MM-DD)", parameter) from None
