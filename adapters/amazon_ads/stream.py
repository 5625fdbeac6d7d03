"""Amazon Marketing Stream (v1): SQS message bodies -> typed hourly records.

Amazon publishes each dataset record to an SNS topic that the advertiser's SQS
queue subscribes to, so an SQS message body is an SNS envelope (``Type``,
``MessageId``, ``TopicArn``, ``Message``, ``Timestamp``, ...) whose ``Message``
is a JSON string holding **one** record of ``sp-traffic`` or ``sp-conversion``.
A new subscription first delivers a ``SubscriptionConfirmation`` envelope
(``SubscribeURL``, ``Token``): it carries no data and is recognised, not loaded.

How records combine (Amazon's Marketing Stream data guide; also how Openbridge and
other consumers read it: "changes ... are sent separately as deltas"):

- The same ``idempotency_id`` is the same record delivered again (SQS and SNS deliver
  at least once): it changes nothing.
- Records with different ``idempotency_id`` for the same hour (``time_window_start``) and
  key (campaign, ad group, ad, keyword or target, placement) are **deltas and add up**:
  late-attributed conversions for a past hour arrive as further records, and
  invalidated (e.g. bot) clicks as records with negative values. The hour's numbers are
  the sum of every distinct record received so far, whatever order they arrived in.

``parse_body`` raises ``MalformedMessage`` (with the reason) for a body that can never
be read; the consumer sends those to the dead-letter queue and quarantine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

TRAFFIC, CONVERSION = "sp-traffic", "sp-conversion"
DATASETS = (TRAFFIC, CONVERSION)
# The raw table each dataset's records land in (schema raw).
RAW_TABLES = {TRAFFIC: "amazon_stream__sp_traffic", CONVERSION: "amazon_stream__sp_conversion"}

KEY_FIELDS = ("campaign_id", "ad_group_id", "ad_id", "keyword_id", "placement")
TEXT_FIELDS = ("marketplace_id", "currency", "advertiser_id", "keyword_text", "match_type")
# The text columns of a raw stream table after its campaign_id, in order (then the dataset's METRICS).
DESCRIPTIVE_COLUMNS = tuple(k for k in (*KEY_FIELDS, *TEXT_FIELDS) if k != "campaign_id")
TRAFFIC_METRICS = {"impressions": int, "clicks": int, "cost": Decimal}
WINDOWS = ("1d", "7d", "14d", "30d")
CONVERSION_METRICS = {
    **{f"attributed_conversions_{w}": int for w in WINDOWS},
    **{f"attributed_sales_{w}": Decimal for w in WINDOWS},
    **{f"attributed_units_ordered_{w}": int for w in WINDOWS},
    **{f"attributed_conversions_{w}_same_sku": int for w in WINDOWS},
    **{f"attributed_sales_{w}_same_sku": Decimal for w in WINDOWS},
}
METRICS = {TRAFFIC: TRAFFIC_METRICS, CONVERSION: CONVERSION_METRICS}


class MalformedMessage(ValueError):
    """A message body that can never be loaded; ``str(exc)`` says why."""


@dataclass(frozen=True)
class Confirmation:
    """A ``SubscriptionConfirmation`` (or ``UnsubscribeConfirmation``) envelope: no data."""

    message_id: str
    topic_arn: str
    kind: str


@dataclass(frozen=True)
class StreamRecord:
    """One dataset record: its dataset, identity, hour (UTC), key, texts and metrics."""

    dataset: str
    idempotency_id: str
    message_id: str
    time_window_start: datetime
    key: dict[str, str | None]
    texts: dict[str, str | None]
    metrics: dict[str, Any]
    record: dict[str, Any]  # the record exactly as Amazon sent it


def _hour(value: Any) -> datetime:
    if not isinstance(value, str):
        raise MalformedMessage(f"time_window_start is {type(value).__name__}, not an ISO-8601 string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedMessage(f"time_window_start {value!r} is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        raise MalformedMessage(f"time_window_start {value!r} has no time zone")
    moment = moment.astimezone(UTC)
    if (moment.minute, moment.second, moment.microsecond) != (0, 0, 0):
        raise MalformedMessage(f"time_window_start {value!r} is not the start of an hour")
    return moment


def _number(name: str, value: Any, kind: type) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        raise MalformedMessage(f"{name} is a boolean")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise MalformedMessage(f"{name} {value!r} is not a number") from None
    if not number.is_finite():
        raise MalformedMessage(f"{name} {value!r} is not finite")
    if kind is int:
        if number != number.to_integral_value():
            raise MalformedMessage(f"{name} {value!r} is not a whole number")
        return int(number)
    return number


def parse_record(record: Any, message_id: str = "") -> StreamRecord:
    """One dataset record (the envelope's ``Message``, decoded) -> StreamRecord."""
    if not isinstance(record, dict):
        raise MalformedMessage(f"the record is {type(record).__name__}, not an object")
    dataset = record.get("dataset_id")
    if dataset not in DATASETS:
        raise MalformedMessage(f"dataset_id {dataset!r} is not one of {', '.join(DATASETS)}")
    idempotency_id = record.get("idempotency_id")
    if not isinstance(idempotency_id, str) or not idempotency_id.strip():
        raise MalformedMessage("the record has no idempotency_id")
    if not record.get("campaign_id"):
        raise MalformedMessage("the record has no campaign_id")
    hour = _hour(record.get("time_window_start"))
    metrics = {name: _number(name, record.get(name), kind) for name, kind in METRICS[dataset].items()}
    if dataset == TRAFFIC and any(metrics[m] is None for m in TRAFFIC_METRICS):
        missing = [m for m in TRAFFIC_METRICS if metrics[m] is None]
        raise MalformedMessage(f"an sp-traffic record without {', '.join(missing)}")
    key = {name: (None if record.get(name) in (None, "") else str(record[name])) for name in KEY_FIELDS}
    texts = {name: (None if record.get(name) is None else str(record[name])) for name in TEXT_FIELDS}
    return StreamRecord(dataset, idempotency_id, message_id, hour, key, texts, metrics, record)


def parse_body(body: str | bytes) -> StreamRecord | Confirmation:
    """An SQS message body (an SNS envelope) -> its record, or a Confirmation to skip."""
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedMessage(f"the body is not JSON ({exc})") from None
    if not isinstance(envelope, dict):
        raise MalformedMessage(f"the body is a JSON {type(envelope).__name__}, not an SNS envelope")
    kind = envelope.get("Type")
    message_id = str(envelope.get("MessageId") or "")
    if kind in ("SubscriptionConfirmation", "UnsubscribeConfirmation"):
        return Confirmation(message_id, str(envelope.get("TopicArn") or ""), kind)
    if kind != "Notification":
        raise MalformedMessage(f"SNS envelope Type {kind!r}: expected Notification or SubscriptionConfirmation")
    message = envelope.get("Message")
    if not isinstance(message, str):
        raise MalformedMessage("the SNS envelope has no Message string")
    try:
        record = json.loads(message)
    except ValueError as exc:
        raise MalformedMessage(f"the envelope's Message is not JSON ({exc})") from None
    return parse_record(record, message_id)
