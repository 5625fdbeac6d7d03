"""Jinja templates of the dashboard, and the error page."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")


def error_page(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "detail": detail, "title": f"{status}"}, status_code=status, headers=headers
    )
