"""Amazon Ads' asynchronous reports in Airflow, without holding a worker while Amazon works.

``AmazonAdsReportOperator`` (one mapped instance per profile) creates the
window's reports (at most 31 days each; a 425 duplicate reuses the existing
report), then defers to ``AmazonAdsReportTrigger``: the triggerer polls
``PENDING``/``PROCESSING`` every ``report_poll_seconds`` (Connection extra,
default 60) with an async sleep, so no worker slot waits. When every report is
``COMPLETED`` the task resumes on a worker, downloads the files from their
pre-signed URLs and writes the lake batches the ``load`` task reads, exactly like
the other platforms' ``extract``: one per report (``REPORT_GROUPS``: campaigns,
and ad groups through ``groupBy: ["adGroup"]``), all requested up front and
awaited by one trigger. A ``FAILED`` report fails the attempt (retried).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseOperator
from airflow.triggers.base import BaseTrigger, TriggerEvent

from adapters.amazon_ads.client import REPORT_POLL_SECONDS
from ads_elt.ingestion.scope import SyncScope

log = logging.getLogger(__name__)

PLATFORM = "amazon_ads"
# Amazon's groupBy -> the report (lake folder and raw table) its rows land in: the adapter's
# REPORT and AD_GROUP_REPORT (not imported here: the DAG file imports this module at parse time).
REPORT_GROUPS = {"campaign": "sp_campaigns", "adGroup": "sp_ad_groups"}


class AmazonAdsReportTrigger(BaseTrigger):
    """Polls Amazon's report status until every report is done (or one failed).

    Holds no secret: the client is rebuilt from the Connection id in the triggerer.
    """

    def __init__(
        self, conn_id: str, profile_id: str, report_ids: list[str], poll_seconds: float = REPORT_POLL_SECONDS, report_groups: dict[str, str] | None = None
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.profile_id = str(profile_id)
        self.report_ids = list(report_ids)
        self.poll_seconds = float(poll_seconds)
        # report id -> groupBy, handed back in the completion event (the task needs it to sort the files by report).
        self.report_groups = dict(report_groups or {})

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "ads_elt.ingestion.amazon_ads.AmazonAdsReportTrigger",
            {
                "conn_id": self.conn_id,
                "profile_id": self.profile_id,
                "report_ids": self.report_ids,
                "poll_seconds": self.poll_seconds,
                "report_groups": self.report_groups,
            },
        )

    async def run(self):
        from adapters.amazon_ads import DONE, FAILED
        from ads_elt.registry.connections import client_for

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
                    yield TriggerEvent({"status": "completed", "report_ids": self.report_ids, "report_groups": self.report_groups, "polls": polls})
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
        from ads_elt.ingestion import sync_state
        from ads_elt.registry.connections import client_for
        from ads_elt.warehouse.db import connect

        scope = SyncScope.of(self.scope)  # the XCom form, rendered from plan's output
        context["account_label"] = scope.label
        with connect(role="loader") as conn:
            sync_state.record_attempt(conn, scope)
            try:
                client = client_for(PLATFORM, scope.connection)
                profile = client.profile(scope.account_id)
                since, until = scope.window_start, scope.window_end
                reports = [report for group in REPORT_GROUPS for report in client.request_reports(scope.account_id, since, until, group)]
                poll_seconds = client.poll_seconds  # the Connection's extra.report_poll_seconds
            except Exception as exc:
                raise _failed(conn, scope, exc) from None
        log.info(
            "amazon_ads profile %s (%s, %s): %d report(s) requested %s; deferring, polling every %ss",
            scope.account_id,
            profile.get("currencyCode"),
            profile.get("timezone"),
            len(reports),
            [r["report_id"] for r in reports],
            poll_seconds,
        )
        self.defer(
            trigger=AmazonAdsReportTrigger(
                scope.connection, scope.account_id, [r["report_id"] for r in reports], poll_seconds, {r["report_id"]: r["group"] for r in reports}
            ),
            method_name="execute_complete",
            kwargs={"reports": reports},
            timeout=timedelta(hours=self.timeout_hours),
        )

    def execute_complete(self, context, event: dict, reports: list[dict] | None = None) -> dict[str, Any]:
        from adapters.errors import TransientError
        from ads_elt.ingestion.pipeline import batches_result, write_report_batch
        from ads_elt.registry.connections import client_for
        from ads_elt.warehouse.db import connect

        scope = SyncScope.of(self.scope)
        context["account_label"] = scope.label  # a resumed task has a new context
        log.info("amazon_ads profile %s: trigger says %s", scope.account_id, event)
        with connect(role="loader") as conn:
            try:
                if event.get("status") == "failed":
                    raise TransientError(f"report {event.get('report_id')} FAILED: {event.get('reason')}")
                if event.get("status") != "completed":
                    raise TransientError(f"polling failed: {event.get('error_type')}: {event.get('message')}")
                client = client_for(PLATFORM, scope.connection)
                # The event says which report is which (resumed kwargs are not relied on); an event
                # without groups comes from a trigger started before ad group reports: all campaigns.
                groups = event.get("report_groups") or {}
                reports = [{"report_id": rid, "group": groups.get(rid, "campaign")} for rid in event["report_ids"]]
                batches = []
                for group, report_name in REPORT_GROUPS.items():
                    mine = [r for r in reports if r.get("group", "campaign") == group]
                    pages = [client.download(client.report_status(scope.account_id, r["report_id"]), group) for r in mine]
                    batches.append(write_report_batch(scope, report_name, pages, reports=mine, polls=event.get("polls")))
            except Exception as exc:
                raise _failed(conn, scope, exc) from None
        return batches_result(scope, batches)


def _failed(conn, scope: SyncScope, exc: Exception) -> Exception:
    """Record the failure like every extract does; the error to raise (retry or fail now)."""
    from adapters.errors import AuthExpiredError, RateLimitedError, ReauthRequiredError, TransientError
    from ads_elt.ingestion import sync_state
    from ads_elt.ingestion.pipeline import PlatformSyncError, fail_without_retry

    status = sync_state.REAUTH_REQUIRED if isinstance(exc, ReauthRequiredError) else sync_state.FAILED
    message = f"{PLATFORM} profile {scope.account_id} ({scope.workspace_id}): {type(exc).__name__}: {exc}"
    sync_state.record_failure(conn, scope, status, message)
    if isinstance(exc, ReauthRequiredError):
        return fail_without_retry(message)
    if isinstance(exc, TransientError | RateLimitedError | AuthExpiredError | OSError):
        return PlatformSyncError(message)
    return fail_without_retry(message)
