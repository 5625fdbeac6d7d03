"""Google Ads API ``googleAds:searchStream`` over the world's Google Ads customers.

- ``POST /google_ads/oauth2/token`` (stands in for https://oauth2.googleapis.com/token):
  refresh-token grant; access tokens last ``token_ttl`` seconds (3599, as the real ones).
- ``POST /google_ads/v{N}/customers/{customer_id}/googleAds:searchStream``: a bearer
  token and a ``developer-token`` header; the body ``{"query": GAQL}`` selects from
  ``campaign`` or ``ad_group`` with a finite ``segments.date`` range. The answer is a
  JSON array of batches (``results``, ``fieldMask``, ``requestId``) of ``batch_size``
  rows (10000, as the real API); proto3 JSON: int64 as strings, doubles as numbers, fields
  at their default value left out.

Errors are ``GoogleAdsFailure`` bodies (wrapped in an array on the stream endpoint).
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from datetime import date
from urllib.parse import parse_qs

from sandbox.faults import RecordAccess
from sandbox.platforms.base import AdTraits, PlatformApi, RealisticProfile, bearer
from sandbox.wire import Response, Route

GOOGLE_FAILURE_TYPE = "type.googleapis.com/google.ads.googleads.{version}.errors.GoogleAdsFailure"


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


FIELDS = {
    "campaign.id",
    "campaign.name",
    "campaign.status",
    "customer.id",
    "customer.currency_code",
    "customer.time_zone",
    "segments.date",
    "metrics.cost_micros",
    "metrics.impressions",
    "metrics.clicks",
    "metrics.conversions",
    "metrics.conversions_value",
}
# FROM ad_group may also select the ad group's own fields; FROM campaign may not.
AD_GROUP_FIELDS = {"ad_group.id", "ad_group.name", "ad_group.status"}
RESOURCES = {"campaign": "campaign", "ad_group": "ad_group"}  # FROM resource -> world grain


# -- GAQL ---------------------------------------------------------------------------

TRAITS = AdTraits(
    id_digits=11,
    fractional_conversions=True,
    utm_sources=(("google", "cpc"), ("Google", "cpc"), ("google", "paidsearch")),
    search_terms=True,
    store_orders_per_conversion=0.55,
)


class GaqlError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


_SELECT = re.compile(r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<resource>\w+)\b(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_BETWEEN = re.compile(
    r"segments\.date\s+BETWEEN\s+['\"](\d{4}-\d{2}-\d{2})['\"]\s+AND\s+['\"](\d{4}-\d{2}-\d{2})['\"]",
    re.IGNORECASE,
)
_GE = re.compile(r"segments\.date\s*>=\s*['\"](\d{4}-\d{2}-\d{2})['\"]", re.IGNORECASE)
_LE = re.compile(r"segments\.date\s*<=\s*['\"](\d{4}-\d{2}-\d{2})['\"]", re.IGNORECASE)


def parse_gaql(query: str) -> tuple[list[str], date, date, str]:
    """(selected fields, since, until, resource) of a GAQL query the sandbox serves."""
    match = _SELECT.match(query)
    if not match:
        raise GaqlError("INVALID_QUERY", "Error in query: expected SELECT <fields> FROM <resource>.")
    resource = match.group("resource").lower()
    if resource not in RESOURCES:
        raise GaqlError(
            "BAD_RESOURCE_TYPE_IN_FROM_CLAUSE",
            f"Error in query: this sandbox serves FROM {' or FROM '.join(RESOURCES)}, not {match.group('resource')}.",
        )
    allowed = FIELDS | (AD_GROUP_FIELDS if resource == "ad_group" else set())
    selected = [f.strip() for f in match.group("fields").split(",") if f.strip()]
    for name in selected:
        if name in AD_GROUP_FIELDS and name not in allowed:
            raise GaqlError(
                "PROHIBITED_RESOURCE_TYPE_IN_SELECT_CLAUSE",
                f"Error in SELECT clause: '{name}' cannot be selected FROM {resource}.",
            )
        if name not in allowed:
            raise GaqlError("UNRECOGNIZED_FIELD", f"Error in SELECT clause: unrecognized field '{name}'.")
    rest = match.group("rest")
    between = _BETWEEN.search(rest)
    if between:
        since, until = between.group(1), between.group(2)
    else:
        ge, le = _GE.search(rest), _LE.search(rest)
        if not (ge and le):
            raise GaqlError("EXPECTED_FILTERS_ON_DATE_RANGE", "Error in query: a finite date range on segments.date is required.")
        since, until = ge.group(1), le.group(1)
    try:
        return selected, date.fromisoformat(since), date.fromisoformat(until), resource
    except ValueError as exc:
        raise GaqlError("INVALID_VALUE_WITH_DURING_OPERATOR", f"Error in query: bad date: {exc}") from None


# -- the wire format -------------------------------------------------------------


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def camel_path(field_path: str) -> str:
    return ".".join(camel(part) for part in field_path.split("."))


def field_value(account, row: dict, field_path: str) -> object:
    """The proto3 JSON value of one field; int64 as strings, doubles as numbers."""
    values = {
        "campaign.id": row["campaign_id"],
        "campaign.name": row["campaign_name"],
        "campaign.status": "ENABLED",
        "ad_group.id": row.get("ad_group_id"),
        "ad_group.name": row.get("ad_group_name"),
        "ad_group.status": "ENABLED",
        "customer.id": account.account_id,
        "customer.currency_code": account.currency,
        "customer.time_zone": account.timezone,
        "segments.date": row["date"].isoformat(),
        "metrics.cost_micros": str(round(row["spend"] * 1_000_000)),
        "metrics.impressions": str(row["impressions"]),
        "metrics.clicks": str(row["clicks"]),
        "metrics.conversions": float(row["conversions"]),
        "metrics.conversions_value": float(row["conversion_value"]),
    }
    return values[field_path]


def search_result(account, row: dict, selected: list[str]) -> dict:
    """One row of the world as a ``GoogleAdsRow`` in proto3 JSON with the ``selected`` fields."""
    result: dict = {}
    for field_path in selected:
        value = field_value(account, row, field_path)
        if value in ("0", 0, 0.0, ""):
            continue  # proto3 JSON leaves out fields at their default value
        resource, name = field_path.split(".", 1)
        group = result.setdefault(camel(resource), {})
        if resource == "campaign" and "resourceName" not in group:
            group["resourceName"] = f"customers/{account.account_id}/campaigns/{row['campaign_id']}"
        elif resource == "ad_group" and "resourceName" not in group:
            group["resourceName"] = f"customers/{account.account_id}/adGroups/{row['ad_group_id']}"
        elif resource == "customer" and "resourceName" not in group:
            group["resourceName"] = f"customers/{account.account_id}"
        group[camel(name)] = value
    return result


def invalid_argument(version: str, error_code: dict, message: str) -> Response:
    """The stream endpoint's 400 for a request it cannot serve, with the failure's code and message."""
    return google_error(
        400,
        "INVALID_ARGUMENT",
        "Request contains an invalid argument.",
        wrap=True,
        version=version,
        error_code=error_code,
        error_message=message,
    )


# -- the rows of a good answer, for the bad_data faults ----------------------------

_METRICS = {"spend": "costMicros", "impressions": "impressions", "clicks": "clicks", "conversion_value": "conversionsValue"}


def _get(row: dict, metric: str) -> float:
    value = float((row.get("metrics") or {}).get(_METRICS[metric]) or 0)
    return value / 1_000_000 if metric == "spend" else value


def _set(row: dict, metric: str, value: float) -> None:
    metrics = row.setdefault("metrics", {})
    key = _METRICS[metric]
    if metric == "spend":
        metrics[key] = str(round(value * 1_000_000))
    elif metric == "conversion_value":
        metrics[key] = float(value)
    elif value:
        metrics[key] = str(int(value))
    else:
        metrics.pop(key, None)  # proto3 JSON leaves out zeros


RECORD_ACCESS = RecordAccess(
    rows=lambda payload: (
        [b["results"] for b in payload if isinstance(b, dict) and isinstance(b.get("results"), list)]
        if isinstance(payload, list)
        else []
    ),
    get=_get,
    set=_set,
    day=lambda row: (row.get("segments") or {}).get("date", ""),
)


class GoogleAdsApi(PlatformApi):
    platform = "google_ads"
    record_access = RECORD_ACCESS
    token_ttl = 3599.0
    batch_size = 10000

    @staticmethod
    def new_credentials() -> dict:
        return {
            "developer_token": secrets.token_urlsafe(16),
            "client_id": f"{secrets.randbelow(10**12):012d}-sandbox.apps.googleusercontent.com",
            "client_secret": "GOCSPX-" + secrets.token_urlsafe(21),
            "refresh_token": "1//" + secrets.token_urlsafe(64),
        }

    @classmethod
    def connection(cls, sandbox_url: str, creds: dict, **options) -> dict:
        conn = cls.oauth_connection(sandbox_url, creds, "oauth2/token")
        conn["extra"] = {"developer_token": creds["developer_token"], **conn["extra"]}
        return conn

    def routes(self) -> list:
        return [
            Route("POST", re.compile(r"^/google_ads/oauth2/token$"), "google_ads", "token", self.token),
            Route(
                "POST",
                re.compile(r"^/google_ads/(v\d+)/customers/([^/]+)/googleAds:searchStream$"),
                "google_ads",
                "searchStream",
                self.search_stream,
                True,
            ),
        ]

    def not_found(self, request, status: int):
        return google_error(
            404 if status == 404 else 405,
            "NOT_FOUND" if status == 404 else "METHOD_NOT_ALLOWED",
            f"{request.method} {request.path} is not a known method.",
        )

    def token(self, request) -> Response:
        form = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        expected = self.credentials
        if form.get("grant_type") != "refresh_token":
            return Response.json(
                400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type: " + form.get("grant_type", "")}
            )
        if form.get("client_id") != expected["client_id"] or not secrets.compare_digest(
            form.get("client_secret", ""), expected["client_secret"]
        ):
            return Response.json(401, {"error": "invalid_client", "error_description": "The OAuth client was not found."})
        if not secrets.compare_digest(form.get("refresh_token", ""), expected["refresh_token"]):
            return Response.json(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        ttl = self.token_ttl
        token = self.issue_token("ya29.sandbox-", ttl)
        return Response.json(
            200,
            {
                "access_token": token,
                "expires_in": int(ttl),
                "scope": "https://www.googleapis.com/auth/adwords",
                "token_type": "Bearer",
            },
        )

    def search_stream(self, request, version: str, customer_id: str) -> Response:
        if not self.token_valid(bearer(request.headers)):
            return google_unauthenticated()
        developer_token = request.headers.get("developer-token", "")
        if not secrets.compare_digest(developer_token, self.credentials["developer_token"]):
            return google_error(
                403,
                "PERMISSION_DENIED",
                "The caller does not have permission",
                version=version,
                error_code={"authorizationError": "DEVELOPER_TOKEN_NOT_APPROVED"},
                error_message="The developer token is not approved for use with this customer.",
            )
        login_customer_id = request.headers.get("login-customer-id")
        if login_customer_id is not None and not login_customer_id.isdigit():
            return invalid_argument(
                version, {"requestError": "INVALID_CUSTOMER_ID"}, "Invalid login-customer-id header: digits only, no dashes."
            )
        if not customer_id.isdigit() or not self.world.has_account("google_ads", customer_id):
            return google_error(
                403,
                "PERMISSION_DENIED",
                "The caller does not have permission",
                wrap=True,
                version=version,
                error_code={"authorizationError": "USER_PERMISSION_DENIED"},
                error_message="User doesn't have permission to access customer. Note: If you're accessing a client "
                "customer, the manager's customer id must be set in the 'login-customer-id' header.",
            )
        try:
            payload = json.loads(request.body or b"")
            query = payload["query"]
            if not isinstance(query, str):
                raise TypeError("query must be a string")
        except (ValueError, KeyError, TypeError):
            return google_error(
                400, "INVALID_ARGUMENT", 'Invalid JSON payload received. Expected {"query": ...}.', wrap=True, version=version
            )
        try:
            selected, since, until, resource = parse_gaql(query)
        except GaqlError as exc:
            return invalid_argument(version, {"queryError": exc.code}, str(exc))
        account = self.world.account("google_ads", customer_id)
        rows = self.world.truth_rows("google_ads", account.account_id, since, until, as_of=self.today, level=RESOURCES[resource])
        results = [r for r in (search_result(account, row, selected) for row in rows) if r]
        field_mask = ",".join(camel_path(f) for f in selected)
        request_id = uuid.uuid4().hex[:22]
        size = max(1, int(self.batch_size))
        batches = [
            {"results": results[start : start + size], "fieldMask": field_mask, "requestId": request_id}
            for start in range(0, len(results), size)
        ]
        if not batches:
            batches.append({"fieldMask": field_mask, "requestId": request_id})
        return Response.json(200, batches, {"request-id": request_id})

    def fault_body(self, kind: str, fault, ctx):
        version = ctx.group(1, "v21")
        if kind == "http_500":
            status = int(fault.params.get("status", 500))
            return google_error(
                status,
                "INTERNAL" if status == 500 else "UNAVAILABLE",
                "Internal error encountered." if status == 500 else "The service is currently unavailable.",
                wrap=True,
                version=version,
                error_code={"internalError": "INTERNAL_ERROR" if status == 500 else "TRANSIENT_ERROR"},
            )
        if kind == "rate_limited":
            retry_after = int(fault.params.get("retry_after", 60))
            return google_error(
                429,
                "RESOURCE_EXHAUSTED",
                "Resource has been exhausted (e.g. check quota).",
                wrap=True,
                version=version,
                error_code={"quotaError": "RESOURCE_EXHAUSTED"},
                error_message=f"Too many requests. Retry in {retry_after} seconds.",
                error_details={
                    "quotaErrorDetails": {
                        "rateScope": "DEVELOPER",
                        "rateName": "Number of operations for basic access",
                        "retryDelay": f"{retry_after}s",
                    }
                },
            )
        if kind == "auth_expired":
            return google_unauthenticated()
        if kind == "auth_revoked":
            return google_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials.",
                version=version,
                error_code={"authenticationError": "OAUTH_TOKEN_REVOKED"},
                error_message="The OAuth access token has been revoked. Please re-authenticate.",
            )
        return None


API = GoogleAdsApi


def realistic_levels(rng, name: str) -> tuple[str, float, float, float, float]:
    """Search campaigns: high CTR, CPC-priced, branded ones with a higher ROAS; Shopping and PMax: display-like CTR."""
    if "Search" in name:
        weekday, ctr, cvr = "search", rng.uniform(0.03, 0.06), rng.uniform(0.03, 0.08)
        cpm = rng.uniform(0.8, 2.5) * ctr * 1000.0  # from the CPC
        roas = rng.uniform(2.5, 5.0) if "Brand" in name and "Non-Brand" not in name else rng.uniform(2.2, 4.0)
    else:
        weekday, ctr, cvr = "search", rng.uniform(0.008, 0.015), rng.uniform(0.015, 0.035)
        cpm = rng.uniform(0.4, 1.2) * ctr * 1000.0
        roas = rng.uniform(2.2, 5.0)
    return weekday, ctr, cpm, cvr, roas


def realistic_record(account, row: dict) -> dict:
    """The row as searchStream returns it for the fields the adapter's daily query selects."""
    from adapters.google_ads.client import QUERY_FIELDS

    return search_result(account, row, list(QUERY_FIELDS))


REALISTIC = RealisticProfile(
    rotation=20,
    account_id=("", 10),
    campaign_id=("2", 11),
    campaign_names=("Brand Search", "Performance Max - All Products", "Non-Brand Search - Generic", "Shopping - Bestsellers"),
    levels=realistic_levels,
    record=realistic_record,
)


# The demo world's accounts on this platform (fields: sandbox.world.demo_accounts).
DEMO_ACCOUNTS = (
    {
        "order": 2,
        "account_id": "1234567890",
        "workspace_id": "northwind_us",
        "currency": "USD",
        "timezone": "America/New_York",
        "name": "Northwind Outdoor - Google Ads",
        "campaigns": (
            {"campaign_id": "20000000001", "name": "Brand Search", "daily_spend": 300.0, "cpm": 16.0, "ctr": 0.045, "cvr": 0.09, "aov": 80.0},
            {"campaign_id": "20000000002", "name": "Non-Brand Search - Generic", "daily_spend": 900.0, "cpm": 45.0, "ctr": 0.04, "cvr": 0.04, "aov": 85.0},
            {"campaign_id": "20000000003", "name": "Performance Max - All Products", "daily_spend": 1500.0, "cpm": 10.0, "ctr": 0.01, "cvr": 0.03, "aov": 90.0},
        ),
    },
    {
        "order": 4,
        "account_id": "2345678901",
        "workspace_id": "lumen_eu",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "name": "Lumen Home - Google Ads",
        "campaigns": (
            {"campaign_id": "20000000011", "name": "Brand Search", "daily_spend": 220.0, "cpm": 12.0, "ctr": 0.045, "cvr": 0.09, "aov": 64.0},
            {"campaign_id": "20000000012", "name": "Shopping - Lamps", "daily_spend": 650.0, "cpm": 8.0, "ctr": 0.012, "cvr": 0.035, "aov": 70.0},
            {"campaign_id": "20000000013", "name": "Non-Brand Search - Furniture", "daily_spend": 480.0, "cpm": 30.0, "ctr": 0.03, "cvr": 0.06, "aov": 95.0},
        ),
    },
)
