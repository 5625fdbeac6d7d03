"""Amazon Ads' asynchronous reports in Airflow, without holding a worker while Amazon works.

``AmazonAdsReportOperator`` (one mapped instance per profile) creates the
window's reports (at most 31 days each; a 425 duplicate reuses the existing
report), then defers to ``AmazonAdsReportTrigger``: the triggerer polls
``PENDING``/``PROCESSING`` every ``report_poll_seconds`` (Connection extra,
default 60) with an async sleep, so no worker slot waits. When every report is
``COMPLETED`` the task resumes on a worker, downloads the files from their
pre-signed URLs and writes the lake batch the ``load`` task reads, exactly like
the other platforms' ``extract``. A ``FAILED`` report fails the attempt (retried).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta
from typing import Any

from airflow.sdk import BaseOperator
from airflow.triggers.base import BaseTrigger, TriggerEvent

log = logging.getLogger(__name__)

PLATFORM = "amazon_ads"


class AmazonAdsReportTrigger(BaseTrigger):
    """Polls Amazon's report status until every report is done (or one failed).

    Holds no secret: the client is rebuilt from the Connection id in the triggerer.
    """

    def __init__(self, conn_id: str, profile_id: str, report_ids: list[str], poll_seconds: float = 60.0) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.profile_id = str(profile_id)
        self.report_ids = list(report_ids)
        self.poll_seconds = float(poll_seconds)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "ads_elt.amazon_ads.AmazonAdsReportTrigger",
            {"conn_id": self.conn_id, "profile_id": self.profile_id, "report_ids": self.report_ids, "poll_seconds": self.poll_seconds},
        )

    async def run(self):
        from adapters.amazon_ads import DONE, FAILED
        from ads_elt.connections import client_for

        polls = 0
        try:
            client = await asyncio.to_thread(client_for, PLATFORM, self.conn_id)
            pending = list(self.report_ids)
            while True:
                for report_id in list(pending):
                    status = await asyncio.to_thread(client.report_status, self.profile_id, report_id)
                    polls += 1
                    if status["status"] == DONE:
                        pending.remove(report_id)
                    elif status["status"] == FAILED:
                        yield TriggerEvent(
                            {"status": "failed", "report_id": report_id, "reason": str(status.get("failureReason")), "polls": polls}
                        )
                        return
                if not pending:
                    yield TriggerEvent({"status": "completed", "report_ids": self.report_ids, "polls": polls})
                    return
                self.log.info("amazon_ads profile %s: %d report(s) not ready after %d poll(s)", self.profile_id, len(pending), polls)
                await asyncio.sleep(self.poll_seconds)
        except Exception as exc:  # reported to the task, which records it and fails (or retries)
            yield TriggerEvent({"status": "error", "error_type": type(exc).__name__, "message": str(exc), "polls": polls})


class AmazonAdsReportOperator(BaseOperator):
    """Extract for one Amazon Ads profile: create reports, defer while they run, download."""

    template_fields = ("scope",)

    def __init__(self, *, scope: dict[str, Any], timeout_hours: float = 6.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scope = scope
        self.timeout_hours = timeout_hours

    def execute(self, context):
        from ads_elt import sync_state
        from ads_elt.connections import client_for, report_poll_seconds
        from ads_elt.db import connect

        scope = self.scope
        context["account_label"] = f"{scope['workspace_id']} / {scope['account_id']}"
        with connect(role="loader") as conn:
            sync_state.record_attempt(conn, scope)
            try:
                client = client_for(PLATFORM, scope["connection"])
                profile = client.profile(scope["account_id"])
                reports = client.request_reports(
                    scope["account_id"], date.fromisoformat(scope["window_start"]), date.fromisoformat(scope["window_end"])
                )
                poll_seconds = report_poll_seconds(scope["connection"])
            except Exception as exc:
                raise _failed(conn, scope, exc) from None
        log.info(
            "amazon_ads profile %s (%s, %s): %d report(s) requested %s; deferring, polling every %ss",
            scope["account_id"],
            profile.get("currencyCode"),
            profile.get("timezone"),
            len(reports),
            [r["report_id"] for r in reports],
            poll_seconds,
        )
        self.defer(
            trigger=AmazonAdsReportTrigger(scope["connection"], scope["account_id"], [r["report_id"] for r in reports], poll_seconds),
            method_name="execute_complete",
            kwargs={"reports": reports},
            timeout=timedelta(hours=self.timeout_hours),
        )

    def execute_complete(self, context, event: dict, reports: list[dict] | None = None) -> dict[str, Any]:
        from adapters.errors import TransientError
        from ads_elt import lake
        from ads_elt.connections import client_for
        from ads_elt.db import connect

        scope = self.scope
        context["account_label"] = f"{scope['workspace_id']} / {scope['account_id']}"  # a resumed task has a new context
        log.info("amazon_ads profile %s: trigger says %s", scope["account_id"], event)
        with connect(role="loader") as conn:
            try:
                if event.get("status") == "failed":
                    raise TransientError(f"report {event.get('report_id')} FAILED: {event.get('reason')}")
                if event.get("status") != "completed":
                    raise TransientError(f"polling failed: {event.get('error_type')}: {event.get('message')}")
                client = client_for(PLATFORM, scope["connection"])
                pages = [client.download(client.report_status(scope["account_id"], rid)) for rid in event["report_ids"]]
                directory = lake.batch_dir(
                    PLATFORM, client.report, date.fromisoformat(scope["run_date"]), scope["workspace_id"], scope["account_id"], scope["sync_run_id"]
                )
                manifest = lake.write_batch(
                    directory,
                    pages,
                    {
                        "platform": PLATFORM,
                        "report": client.report,
                        "workspace_id": scope["workspace_id"],
                        "account_id": scope["account_id"],
                        "window_start": scope["window_start"],
                        "window_end": scope["window_end"],
                        "sync_run_id": scope["sync_run_id"],
                        "reports": reports or [],
                        "polls": event.get("polls"),
                    },
                )
            except Exception as exc:
                raise _failed(conn, scope, exc) from None
        log.info("amazon_ads %s: %d report file(s), %d record(s) -> %s", scope["account_id"], len(pages), manifest["record_count"], directory)
        return {"uri": str(directory), "platform": PLATFORM, "account_id": scope["account_id"], "records": manifest["record_count"]}


def _failed(conn, scope: dict[str, Any], exc: Exception) -> Exception:
    """Record the failure like every extract does; the error to raise (retry or fail now)."""
    from adapters.errors import AuthExpiredError, RateLimitedError, ReauthRequiredError, TransientError
    from ads_elt import sync_state
    from ads_elt.pipeline import PlatformSyncError, _fail_without_retry

    status = sync_state.REAUTH_REQUIRED if isinstance(exc, ReauthRequiredError) else sync_state.FAILED
    message = f"{PLATFORM} profile {scope['account_id']} ({scope['workspace_id']}): {type(exc).__name__}: {exc}"
    sync_state.record_failure(conn, scope, status, message)
    if isinstance(exc, ReauthRequiredError):
        return _fail_without_retry(message)
    if isinstance(exc, TransientError | RateLimitedError | AuthExpiredError | OSError):
        return PlatformSyncError(message)
    return _fail_without_retry(message)
