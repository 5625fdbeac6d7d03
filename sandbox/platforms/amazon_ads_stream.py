"""Amazon Marketing Stream (v1) for the world's Amazon Ads profiles: what Amazon pushes to SQS.

Each SQS message body is an SNS envelope whose ``Message`` is one ``sp-traffic`` or
``sp-conversion`` record (adapters.amazon_ads.stream has the fields and the rule: the same
``idempotency_id`` is a redelivery, different ones for the same hour and key add up).

For every profile-local day the world's ad-group days (``World.fine_truth``) are split over
the day's UTC hours by a daily-rhythm curve, so the hours of a campaign-day add up exactly to
its daily report. What real delivery does is reproduced, each from its own seeded draw:

- a ``SubscriptionConfirmation`` per dataset first (``confirm=True``);
- conversions arrive as deltas: the first record of an hour carries what the daily report
  shows the next morning, later records for the same past hour add what was attributed
  since (the world's restatement: 92 %, 97 %, then 100 % of the final conversions);
- a few hours' clicks are invalidated: the traffic record counts one click too many and a
  later record for the same hour takes it back (negative values);
- hours arrive out of order, a share of messages is delivered twice, and now and then a
  body is broken (not JSON, or an envelope whose ``Message`` is not JSON);
- ``Spike`` multiplies a campaign's spend from an hour of a day on (an incident to catch
  within the day).

``ensure_queues`` creates the queue and its dead-letter queue (redrive after
``max_receive_count`` receives) on SQS (moto's server locally); ``publish`` sends bodies in
batches of ten.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sandbox.platforms.amazon_ads import MARKETPLACE_ID, advertiser_id

TOPIC = "arn:aws:sns:us-east-1:906013806264:AmazonMarketingStream-{dataset}-{profile}"
# Share of a day's delivery per local hour: quiet nights, a daytime plateau, an evening peak.
DIURNAL = (
    0.6,
    0.4,
    0.3,
    0.25,
    0.25,
    0.35,
    0.6,
    1.0,
    1.3,
    1.5,
    1.6,
    1.65,
    1.7,
    1.65,
    1.6,
    1.6,
    1.65,
    1.75,
    1.9,
    2.0,
    1.9,
    1.6,
    1.2,
    0.85,
)
MATCH_TYPES = ("BROAD", "PHRASE", "EXACT")
PLACEMENTS = ("Top of Search on-Amazon", "Detail Page on-Amazon", "Other on-Amazon")
RESTATEMENT_STEPS = (1, 2, 3)  # days after the day at which the world's conversions are 92 %, 97 %, 100 %
INVALIDATED_CLICK_SHARE = 0.08  # of traffic hours with clicks
DUPLICATE_SHARE = 0.03
METRICS = ("spend", "impressions", "clicks", "conversions", "conversion_value")
MALFORMED_PER_DAY = 1


@dataclass(frozen=True)
class Spike:
    """A campaign's spend multiplied by ``factor`` from ``from_hour`` (profile-local) of ``day``."""

    campaign_id: str
    day: date
    from_hour: int
    factor: float = 3.0


def local_hours(day: date, timezone: str) -> list[tuple[int, datetime]]:
    """(local hour, UTC start) of every hour of a profile-local day (23 or 25 on DST days)."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    out = []
    moment = start
    while moment < end:
        out.append((moment.astimezone(zone).hour, moment))
        moment += timedelta(hours=1)
    return out


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _keyword(world, profile_id: str, campaign, index: int, group) -> dict:
    words = campaign.name.split(" - ")[-1].lower()
    return {
        "ad_group_id": group.ad_group_id,
        "ad_id": group.ads[0].ad_id,
        "keyword_id": str(10**14 + int(group.ad_group_id) % (9 * 10**14)),
        "keyword_text": words if index == 0 else f"{words} {('for camping', 'best', 'sale')[index % 3]}",
        "match_type": MATCH_TYPES[index % len(MATCH_TYPES)],
        "placement": PLACEMENTS[index % len(PLACEMENTS)],
    }


class StreamPublisher:
    """The Marketing Stream of one world: records per profile-local day, as SNS envelopes."""

    def __init__(self, world, seed: int = 7) -> None:
        self.world = world
        self.seed = seed

    def _rng(self, *parts) -> random.Random:
        return random.Random("|".join(str(p) for p in (self.seed, *parts)))

    def _shares(self, hours: list[tuple[int, datetime]], *key) -> list[float]:
        rng = self._rng("hours", *key)
        weights = [DIURNAL[h] * rng.uniform(0.85, 1.15) for h, _ in hours]
        total = sum(weights)
        return [w / total for w in weights]

    def records(
        self, profile_id: str, day: date, as_of: date, *, until_hour: int | None = None, spike: Spike | None = None
    ) -> list[tuple[datetime, dict]]:
        """(delivery time, record) of a profile-local day as known on ``as_of``; hours before ``until_hour`` only when given."""
        world = self.world
        account = world.account("amazon_ads", profile_id)
        hours = local_hours(day, account.timezone)
        base = {"marketplace_id": MARKETPLACE_ID, "currency": account.currency, "advertiser_id": advertiser_id(profile_id)}
        out: list[tuple[datetime, dict]] = []
        for campaign in account.campaigns:
            groups = world.ad_groups("amazon_ads", profile_id, campaign.campaign_id)
            levels = [
                world.fine_truth("amazon_ads", profile_id, campaign.campaign_id, day, day + timedelta(days=k))
                for k in RESTATEMENT_STEPS
            ]
            levels = [
                rows
                for k, rows in zip(RESTATEMENT_STEPS, levels, strict=True)
                if day + timedelta(days=k) <= max(as_of, day + timedelta(days=1))
            ]
            for index, group in enumerate(groups):
                key = {"campaign_id": campaign.campaign_id, **_keyword(world, profile_id, campaign, index, group)}
                rng = self._rng("records", profile_id, group.ad_group_id, day)
                shares = self._shares(hours, profile_id, group.ad_group_id, day, "outcome")
                delivery = self._shares(hours, profile_id, group.ad_group_id, day, "delivery")
                split = [
                    world.split_metrics("amazon_ads", {m: rows[index][m] for m in METRICS}, shares, delivery) for rows in levels
                ]
                for h, ((local_hour, start), hour_metrics) in enumerate(zip(hours, split[0], strict=True)):
                    if until_hour is not None and local_hour >= until_hour:
                        break
                    delivered = start + timedelta(hours=1, minutes=rng.randrange(20, 60))
                    common = {**base, **key, "time_window_start": _stamp(start).replace(".000Z", "Z")}
                    traffic = {
                        "impressions": hour_metrics["impressions"],
                        "clicks": hour_metrics["clicks"],
                        "cost": hour_metrics["spend"],
                    }
                    if spike and spike.campaign_id == campaign.campaign_id and spike.day == day and local_hour >= spike.from_hour:
                        traffic = {
                            "impressions": round(traffic["impressions"] * 1.3),
                            "clicks": round(traffic["clicks"] * 1.3),
                            "cost": round(traffic["cost"] * spike.factor, 2),
                        }
                    if traffic["clicks"] > 0 and rng.random() < INVALIDATED_CLICK_SHARE:
                        cpc = round(traffic["cost"] / traffic["clicks"], 2)
                        out.append(
                            (
                                delivered,
                                self._traffic(
                                    rng, common, traffic["impressions"], traffic["clicks"] + 1, round(traffic["cost"] + cpc, 2)
                                ),
                            )
                        )
                        out.append((delivered + timedelta(hours=rng.randrange(2, 20)), self._traffic(rng, common, 0, -1, -cpc)))
                    else:
                        out.append((delivered, self._traffic(rng, common, **traffic)))
                    previous = {"conversions": 0, "conversion_value": 0.0}
                    for step, level in enumerate(split):
                        now = level[h]
                        delta_conv = now["conversions"] - previous["conversions"]
                        delta_value = round(now["conversion_value"] - previous["conversion_value"], 2)
                        previous = now
                        if delta_conv == 0 and delta_value == 0:
                            continue
                        when = delivered + timedelta(days=step, minutes=rng.randrange(0, 600) if step else 5)
                        out.append((when, self._conversion(rng, common, delta_conv, delta_value)))
        return out

    @staticmethod
    def _traffic(rng, common: dict, impressions: int, clicks: int, cost: float) -> dict:
        return {
            "idempotency_id": _id(rng),
            "dataset_id": "sp-traffic",
            **common,
            "impressions": impressions,
            "clicks": clicks,
            "cost": cost,
        }

    @staticmethod
    def _conversion(rng, common: dict, conversions: int, sales: float) -> dict:
        record = {"idempotency_id": _id(rng), "dataset_id": "sp-conversion", **common}
        one_day = int(conversions * 0.8)
        for window, (count, value) in {
            "1d": (one_day, round(sales * one_day / conversions, 2) if conversions else 0.0),
            "7d": (conversions, sales),
            "14d": (conversions, sales),
            "30d": (conversions, sales),
        }.items():
            record[f"attributed_conversions_{window}"] = count
            record[f"attributed_sales_{window}"] = value
            record[f"attributed_units_ordered_{window}"] = count
            record[f"attributed_conversions_{window}_same_sku"] = int(count * 0.9)
            record[f"attributed_sales_{window}_same_sku"] = round(value * 0.9, 2)
        return record

    def envelope(self, rng: random.Random, record: dict, profile_id: str, delivered: datetime) -> str:
        dataset = record["dataset_id"]
        topic = TOPIC.format(dataset=dataset, profile=profile_id)
        return json.dumps(
            {
                "Type": "Notification",
                "MessageId": _id(rng),
                "TopicArn": topic,
                "Message": json.dumps(record),
                "Timestamp": _stamp(delivered),
                "SignatureVersion": "1",
                "Signature": base64.b64encode(rng.randbytes(96)).decode(),
                "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
                "UnsubscribeURL": f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic}:{_id(rng)}",
            }
        )

    def confirmation(self, rng: random.Random, dataset: str, profile_id: str, moment: datetime) -> str:
        topic = TOPIC.format(dataset=dataset, profile=profile_id)
        token = rng.randbytes(64).hex()
        return json.dumps(
            {
                "Type": "SubscriptionConfirmation",
                "MessageId": _id(rng),
                "Token": token,
                "TopicArn": topic,
                "Message": f"You have chosen to subscribe to the topic {topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
                "SubscribeURL": f"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={topic}&Token={token}",
                "Timestamp": _stamp(moment),
                "SignatureVersion": "1",
                "Signature": base64.b64encode(rng.randbytes(96)).decode(),
                "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
            }
        )

    def bodies(
        self,
        since: date,
        until: date,
        as_of: date,
        *,
        partial_day: date | None = None,
        until_hour: int | None = None,
        spike: Spike | None = None,
        confirm: bool = True,
        faults: bool = True,
    ) -> list[str]:
        """Every message body of the world's Amazon Ads profiles for local days ``since``..``until``
        (and ``partial_day`` up to ``until_hour``), as delivered by ``as_of``: in delivery order with
        out-of-order hours, and, with ``faults``, duplicates and broken bodies."""
        out: list[tuple[datetime, str]] = []
        for account in self.world.accounts_for("amazon_ads"):
            profile = account.account_id
            rng = self._rng("envelopes", profile, since, until, partial_day)
            if confirm:
                first = datetime.combine(since, time(0), UTC) - timedelta(hours=12)
                out += [(first, self.confirmation(rng, dataset, profile, first)) for dataset in ("sp-traffic", "sp-conversion")]
            days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
            timed = [(when, record, day) for day in days for when, record in self.records(profile, day, as_of, spike=spike)]
            if partial_day is not None:
                timed += [
                    (when, record, partial_day)
                    for when, record in self.records(profile, partial_day, as_of, until_hour=until_hour, spike=spike)
                ]
            for when, record, _day in timed:
                # out of order: a message may overtake others by up to three hours
                out.append((when - timedelta(minutes=rng.randrange(0, 180)), self.envelope(rng, record, profile, when)))
            if faults:
                copies = [item for item in out if rng.random() < DUPLICATE_SHARE and '"Notification"' in item[1]]
                out += [(when + timedelta(minutes=rng.randrange(1, 240)), body) for when, body in copies]
                for day in days + ([partial_day] if partial_day else []):
                    for n in range(MALFORMED_PER_DAY):
                        moment = datetime.combine(day, time(12), UTC) + timedelta(minutes=n)
                        good = self.envelope(rng, {"dataset_id": "sp-traffic", "idempotency_id": _id(rng)}, profile, moment)
                        broken = (
                            good[: len(good) // 2]
                            if (day.toordinal() + n) % 2
                            else good.replace('"Message": "{', '"Message": "{{', 1)
                        )
                        out.append((moment, broken))
        out.sort(key=lambda item: item[0])
        return [body for _, body in out]


def ensure_queues(sqs, name: str = "ads-stream", max_receive_count: int = 5) -> tuple[str, str]:
    """The queue and its dead-letter queue (created when missing); returns their URLs."""
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": str(max_receive_count)})
    queue = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    return queue, dlq


def publish(sqs, queue_url: str, bodies: list[str]) -> int:
    """Send the bodies in batches of ten (SQS's maximum); returns how many were sent."""
    for i in range(0, len(bodies), 10):
        chunk = bodies[i : i + 10]
        response = sqs.send_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": str(j), "MessageBody": b} for j, b in enumerate(chunk)]
        )
        if response.get("Failed"):
            raise RuntimeError(f"SQS refused {len(response['Failed'])} message(s): {response['Failed'][0]}")
    return len(bodies)
