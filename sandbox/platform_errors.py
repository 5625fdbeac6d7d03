"""Meta's and Google Ads' error bodies, as their APIs send them (used by their fakes and by the fault injector)."""

from __future__ import annotations

import base64
import secrets
import uuid

from sandbox.wire import Response

GOOGLE_FAILURE_TYPE = "type.googleapis.com/google.ads.googleads.{version}.errors.GoogleAdsFailure"

META_EXPIRED_MESSAGE = (
    "Error validating access token: Session has expired on Tuesday, 01-Apr-25 10:00:00 PDT. "
    "The current time is Wednesday, 02-Apr-25 09:00:00 PDT."
)


def trace_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(9)).decode()


def meta_error(
    status: int,
    code: int,
    message: str,
    error_type: str,
    subcode: int | None = None,
    headers: dict | None = None,
    is_transient: bool = False,
) -> Response:
    error: dict = {"message": message, "type": error_type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if is_transient:
        error["is_transient"] = True
    error["fbtrace_id"] = trace_id()
    return Response.json(
        status,
        {"error": error},
        {"WWW-Authenticate": 'OAuth "Facebook Platform"', **(headers or {})},
    )


def google_error(
    status: int,
    status_name: str,
    message: str,
    wrap: bool = False,
    version: str = "v21",
    error_code: dict | None = None,
    error_message: str | None = None,
    error_details: dict | None = None,
) -> Response:
    error: dict = {"code": status, "message": message, "status": status_name}
    if error_code is not None:
        failure_error: dict = {
            "errorCode": error_code,
            "message": error_message or message,
        }
        if error_details:
            failure_error["details"] = error_details
        error["details"] = [
            {
                "@type": GOOGLE_FAILURE_TYPE.format(version=version),
                "errors": [failure_error],
                "requestId": uuid.uuid4().hex[:22],
            }
        ]
    body: object = [{"error": error}] if wrap else {"error": error}
    return Response.json(status, body)


def google_unauthenticated() -> Response:
    return google_error(
        401,
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
        "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
    )
