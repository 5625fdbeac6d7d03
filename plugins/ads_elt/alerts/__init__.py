"""Alerts: read from `marts.mart_alerts`, deduplicated and suppressed in `ops.alert_log`, delivered.

The alerts step runs after dbt. It reads the alerts `marts.mart_alerts` holds
for the run date (anomalies of the robust z-score detector and triggered seed
rules, each with its numbers, baseline, severity, explanation and dashboard
link), records each in `ops.alert_log`, holds back repeats (suppression), and
delivers one digest per workspace to each of its channels: Slack (Block Kit,
plus a chart uploaded with a bot token when one is configured), Microsoft
Teams (Adaptive Card) and email (SMTP). A workspace without any channel gets
the text in the task log.

Deduplication. `alert_key` = ``workspace|platform|campaign|signal|date`` (the
signal is the metric of an anomaly or the rule id of a rule) is the primary
key of `ops.alert_log`. A row is inserted as `pending` the first time its
alert appears and set to `sent` once every channel of its workspace has it
(`ops.alert_deliveries` records each channel, so a failing channel never
makes the others repeat). A rerun of the same date sends nothing new; an
alert whose send failed stays `pending` and goes out on the next attempt.
Rows being delivered are locked (``for update skip locked``), so two
overlapping runs never both send them.

Suppression. A new alert whose entity (workspace, platform, campaign) and
signal were last *sent* fewer than `suppress_days` days before its date is
set to `suppressed` (with `suppressed_by` = the sent key) unless it is worse:
its score (|robust z|, or how far beyond the rule's threshold) exceeds the
sent one's by more than `worsen_margin`, or its severity is higher. A
chronic condition is therefore repeated every `suppress_days` days, and a
worsening one at once.

Charts. Each workspace digest gets a PNG (`ads_elt.alerts.charts`): each alerted
metric's last 60 days with its baseline band and the alert day marked. It is
saved under the alert artifacts folder (`ADS_ELT_ALERT_ARTIFACTS`, default
`.local/alerts/`; its path is in `ops.alert_log.chart_path`) and, when the
workspace has `slack_bot_connection` and `slack_channel`, uploaded to Slack.

Secrets (webhook URLs, tokens, passwords) never appear in messages, log
records or exceptions raised here.

The package: `model` (settings, alerts, errors), `formatting` (how they read), `selection`
(which go out: the alert log), `channels` (Slack, Teams, email) and `delivery` (the step, `run_alerts`).
"""

from __future__ import annotations

from ads_elt.alerts.channels import (  # noqa: F401 - the package's names, as the module had them
    ChannelSender,
    SlackSender,
    default_senders,
    send_slack_webhook,
)
from ads_elt.alerts.delivery import (  # noqa: F401 - the package's names, as the module had them
    chart_link,
    deliver,
    run_alerts,
    signed_dashboard_links,
)
from ads_elt.alerts.formatting import (  # noqa: F401 - the package's names, as the module had them
    ALERTS_PER_MESSAGE,
    CURRENCY_SYMBOLS,
    DIRECTION_WORDS,
    MAX_BLOCKS,
    MAX_CONTEXT_CHARS,
    MAX_HEADER_CHARS,
    MAX_SECTION_CHARS,
    METRIC_LABELS,
    MONEY_METRICS,
    MULTIPLE_METRICS,
    PERCENT_METRICS,
    PLATFORM_LABELS,
    SEVERITY_EMOJI,
    THREE_DECIMAL_CURRENCIES,
    ZERO_DECIMAL_CURRENCIES,
    alert_key,
    as_date,
    build_slack_payload,
    build_text,
    chunks,
    dashboard_link,
    digest_title,
    format_metric,
    format_money,
    metric_label,
    number,
    one_line,
    open_line,
    ordered,
    platform_label,
    redact,
    severity_for,
    slack_client_log,
)
from ads_elt.alerts.model import (  # noqa: F401 - the package's names, as the module had them
    ALERT_RELATION,
    ANOMALY_RELATION,
    CRITICAL_FACTOR,
    DEFAULT_THRESHOLD,
    LOG_CHANNEL,
    Alert,
    AlertDeliveryError,
    AlertSourceMissingError,
    Delivery,
    SlackConnectionNotFound,
    WorkspaceAlertSettings,
    mirror_workspace_settings,
    planned_change_id,
    settings_from_registry,
)
from ads_elt.alerts.selection import (  # noqa: F401 - the package's names, as the module had them
    ALERT_COLUMNS,
    MAX_RECOMMENDATIONS,
    RECOMMENDATION_RELATION,
    SEVERITY_RANK,
    WEEKLY_DIGEST_WEEKDAY,
    build_alerts,
    fetch_alerts,
    fetch_recommendations,
    lock_pending,
    mark_sent,
    recommendation_alerts,
    record_and_select_new,
)
