"""The provider scorecard on a real DynamoDB: kept exactly once by the stream handler over tumbling
windows, read through GET /scorecard, rebuilt by the recount (equal after shuffled retries)."""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from dlrhub.domain.registration import Registration
from dlrhub.domain.report import Cost, Source, StatusReport
from dlrhub.domain.scorecard import Figures, RowKey, sheets
from dlrhub.domain.status import Status
from dlrhub.services.stream import Window, handle_batch
from dlrhub.table.counters import StatsStore
from dlrhub.table.messages import MessageStore
from dlrhub.table.recount import Recounter
from dlrhub.table.scorecard import ScorecardStore
from dlrhub_local.processes import Server
from tests.integration.test_api_handler import body_of, invoke, request
from tests.integration.test_stream_counters import FlakyTransactions
from tests.stream_support import REGION, read_stream, write_story
from tests.support import create_table

HOUR = "2026-11-25T10:00:00Z"
DAY = (datetime(2026, 11, 25, tzinfo=UTC), datetime(2026, 11, 26, tzinfo=UTC))
#: What the story (tests/stream_support.write_story) adds to the scorecard: m1 delivered after 20 s
#: (then read) with a cost, m2 failed after 27 s, m3 never registered; the number is Indonesian.
STORY = {
    "sub": 2, "dlv": 1, "fail": 1, "st:FAILED": 1, "w:UNDELIV": 1, "l:20": 1, "l:30": 1,
    "c:CNY": Decimal("0.0567"), "cd:CNY": 1,
}  # fmt: skip


@dataclass
class Table:
    client: Any
    name: str
    stats: StatsStore
    card: ScorecardStore

    def figures(self, **filters: str) -> dict[tuple[str, str, str], Figures]:
        return {
            (row.provider, row.account, row.country): row.figures for row in sheets(self.card.rows(*DAY, **filters))
        }


@pytest.fixture
def local(dynamodb_local: Server) -> Table:
    client = boto3.client("dynamodb", endpoint_url=dynamodb_local.endpoint, region_name=REGION)
    name = create_table(dynamodb_local.endpoint)
    return Table(client, name, StatsStore(name, client=client), ScorecardStore(name, client=client))


def window_calls(table: Table, shard: str, batches: list[list[dict[str, Any]]], card: ScorecardStore) -> None:
    """One tumbling window as Lambda calls it: each batch with the state the call before returned, then
    the final call."""
    state: dict[str, Any] = {}
    for batch in batches:
        state = handle_batch(shard, batch, None, table.stats, card, Window(state, final=False)).state
    handle_batch(shard, [], None, table.stats, card, Window(state, final=True))


def test_a_window_is_written_once_when_it_ends_even_delivered_twice(local: Table, dynamodb_local: Server) -> None:
    write_story(MessageStore(local.name, client=local.client))
    stream = read_stream(dynamodb_local.endpoint, local.name)
    records = stream.records
    state = handle_batch(stream.shard, records[:4], None, local.stats, local.card, Window({}, final=False)).state
    assert state["scorecard"]["rows"]  # gathered, not written yet
    assert local.figures() == {}
    state = handle_batch(stream.shard, records[4:], None, local.stats, local.card, Window(state, final=False)).state
    done = handle_batch(stream.shard, [], None, local.stats, local.card, Window(state, final=True))
    assert (done.state, done.scorecard_writes) == ({}, 1)
    assert local.figures() == {("innopaas", "demo", "ID"): STORY}
    # The whole window delivered again (a replay of the shard from its start): refused, nothing added.
    window_calls(local, stream.shard, [records[:2], records[2:]], local.card)
    assert local.card.repeats == 1
    assert local.figures() == {("innopaas", "demo", "ID"): STORY}


def test_a_conflict_is_tried_again_and_a_failed_write_is_retried_by_lambda_exactly_once(
    local: Table, dynamodb_local: Server
) -> None:
    write_story(MessageStore(local.name, client=local.client))
    stream = read_stream(dynamodb_local.endpoint, local.name)
    flaky = FlakyTransactions(local.client, times=2)
    clashing = ScorecardStore(local.name, client=flaky, sleep=lambda _: None)
    state = handle_batch(stream.shard, stream.records, None, local.stats, clashing, Window({}, final=False)).state
    broken = ScorecardStore(local.name, client=FlakyTransactions(local.client, times=100), sleep=lambda _: None)
    with pytest.raises(ClientError):  # the final call fails: Lambda calls it again with the same state
        handle_batch(stream.shard, [], None, local.stats, broken, Window(state, final=True))
    assert local.figures() == {}
    handle_batch(stream.shard, [], None, local.stats, clashing, Window(state, final=True))
    assert (flaky.calls, clashing.conflicts) == (3, 2)  # two clashes, then the write
    assert local.figures() == {("innopaas", "demo", "ID"): STORY}


# --- GET /scorecard ----------------------------------------------------------------------


T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def report(provider: str, mid: str, status: Status, seconds: float, **extra: Any) -> StatusReport:
    return StatusReport(
        provider=provider,
        account="demo",
        message_id=mid,
        status=status,
        raw_status=extra.pop("raw", status.value.lower()),
        received_at=T0 + timedelta(seconds=seconds),
        source=Source.WEBHOOK,
        **extra,
    )


def drain(endpoint: str, table: str, stats: StatsStore, card: ScorecardStore) -> None:
    """The table's stream through the handler, without a window (each call writes), every shard."""
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name=REGION)
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        position = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        iterator = position["ShardIterator"]
        for _ in range(1000):
            reply = streams.get_records(ShardIterator=iterator, Limit=50)
            if not reply.get("Records"):
                break
            handle_batch(shard["ShardId"], reply["Records"], None, stats, card)
            iterator = reply["NextShardIterator"]


def test_scorecard_compares_providers_per_country(moto_server: Any, table: str, api_handler: Any) -> None:
    client = boto3.client("dynamodb", endpoint_url=moto_server.endpoint, region_name=REGION)
    store = MessageStore(table, client=client)
    numbers = {"v1": "447700900001", "v2": "447700900002", "v3": "447700900003", "i1": "447700900004"}
    numbers |= {"i2": "628131565746", "i3": "628131565747"}
    for mid, number in numbers.items():
        provider = "vonage" if mid.startswith("v") else "innopaas"
        reg = Registration(provider=provider, account="demo", message_id=mid, destination=number, submitted_at=T0)
        store.register(reg, T0)
    eur = Cost(amount="0.0350", currency="EUR", parts=1)
    store.apply(report("vonage", "v1", Status.DELIVERED, 4, cost=eur, country="GB"))
    store.apply(report("vonage", "v2", Status.DELIVERED, 50, cost=eur))
    store.apply(report("vonage", "v3", Status.FAILED, 700, raw="failed", cost=eur))
    store.apply(report("innopaas", "i1", Status.REJECTED, 3, raw="MBBLACK"))
    store.apply(report("innopaas", "i2", Status.DELIVERED, 9, cost=Cost(amount="0.02", currency="CNY")))
    store.apply(report("innopaas", "i3", Status.UNKNOWN, 90, raw="UNKNOWN"))
    drain(moto_server.endpoint, table, StatsStore(table, client=client), ScorecardStore(table, client=client))

    reply = invoke(
        api_handler, request("GET", "/scorecard", query={"from": "2026-11-25T10:30:00Z", "to": "2026-11-25T11:00:00Z"})
    )
    assert reply["statusCode"] == 200, reply["body"]
    body = body_of(reply)
    assert (body["from"], body["to"]) == ("2026-11-25T10:00:00.000Z", "2026-11-25T11:00:00.000Z")
    rows = {(r["provider"], r["country"]): r for r in body["rows"]}
    assert list(rows) == [("innopaas", "GB"), ("innopaas", "ID"), ("vonage", "GB")]
    vonage = rows[("vonage", "GB")]
    assert (vonage["submitted"], vonage["delivered"], vonage["failed"], vonage["pending"]) == (3, 2, 1, 0)
    assert vonage["delivery_rate"] == pytest.approx(2 / 3)
    assert vonage["top_failure_words"] == [{"word": "failed", "count": 1}]
    assert (vonage["latency"]["p50_seconds"], vonage["latency"]["p99_seconds"]) == (60, 1200)
    assert {b["le_seconds"]: b["count"] for b in vonage["latency"]["buckets"] if b["count"]} == {5: 1, 60: 1, 1200: 1}
    assert vonage["cost"] == [{"currency": "EUR", "total": "0.105", "delivered": 2, "per_delivered": "0.0525"}]
    indonesia = rows[("innopaas", "ID")]
    assert (indonesia["delivered"], indonesia["unknown"], indonesia["delivery_rate"]) == (1, 1, 0.5)
    assert indonesia["cost"] == [{"currency": "CNY", "total": "0.02", "delivered": 1, "per_delivered": "0.02"}]
    assert rows[("innopaas", "GB")]["failed_by_status"] == {"FAILED": 0, "REJECTED": 1, "EXPIRED": 0}

    for query, expected in [
        ({"country": "ID"}, [("innopaas", "ID")]),
        ({"provider": "vonage"}, [("vonage", "GB")]),
        ({"provider": "innopaas", "account": "demo", "country": "GB"}, [("innopaas", "GB")]),
        ({"account": "other"}, []),
    ]:
        query |= {"from": "2026-11-25T10:00:00Z", "to": "2026-11-25T11:00:00Z"}
        found = body_of(invoke(api_handler, request("GET", "/scorecard", query=query)))["rows"]
        assert [(r["provider"], r["country"]) for r in found] == expected, query
    later = {"from": "2026-11-25T11:00:00Z", "to": "2026-11-26T00:00:00Z"}
    assert body_of(invoke(api_handler, request("GET", "/scorecard", query=later)))["rows"] == []


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"from": "2026-11-25T10:00:00", "to": "2026-11-25T12:00:00Z"}, "zone"),
        ({"from": "2026-11-25T12:00:00Z", "to": "2026-11-25T10:00:00Z"}, "after"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "744 hours"),
        ({"from": "2026-11-25T10:00:00Z", "to": "2026-11-25T12:00:00Z", "country": "Indonesia"}, "country"),
        ({"to": "2026-11-25T12:00:00Z"}, "from"),
    ],
)
def test_bad_scorecard_queries_are_400_with_a_reason(api_handler: Any, query: dict[str, str], reason: str) -> None:
    reply = invoke(api_handler, request("GET", "/scorecard", query=query))
    assert reply["statusCode"] == 400
    assert reason in reply["body"]


# --- the recount equals what the stream kept, after shuffled retries ---------------------------


def life(rng: random.Random, n: int) -> tuple[Registration, list[StatusReport]]:
    """A message and its reports as its provider would send them (a final word, sometimes a READ)."""
    provider = rng.choice(["innopaas", "vonage", "awseum"])
    account = rng.choice(["main", "eu"])
    number = rng.choice(["628131565746", "447700900123", "14165550123", "12125550123"])
    submitted = T0 + timedelta(minutes=rng.randint(0, 119))
    reg = Registration(
        provider=provider, account=account, message_id=f"m{n}", destination=number, submitted_at=submitted
    )
    at = lambda seconds: submitted + timedelta(seconds=seconds)  # noqa: E731
    final, word = rng.choice([(Status.DELIVERED, "DELIVRD"), (Status.FAILED, "UNDELIV"), (Status.REJECTED, "REJECTD")])
    extra: dict[str, Any] = {}
    if rng.random() < 0.5:
        extra["cost"] = Cost(amount=rng.choice(["0.01", "0.0035", "0.12"]), currency=rng.choice(["EUR", "USD"]))
    if rng.random() < 0.3:
        extra["country"] = rng.choice(["CA", "US", "ID"])  # the report's own country (an MCC)
    reports = [
        StatusReport(
            provider=provider, account=account, message_id=f"m{n}", status=Status.PENDING, raw_status="ACCEPTD",
            received_at=at(2), source=Source.WEBHOOK,
        ),
        StatusReport(
            provider=provider, account=account, message_id=f"m{n}", status=final, raw_status=word,
            received_at=at(rng.choice([3, 40, 900, 4000])), source=Source.WEBHOOK, **extra,
        ),
    ]  # fmt: skip
    if final is Status.DELIVERED and rng.random() < 0.3:
        reports.append(reports[1].model_copy(update={"status": Status.READ, "raw_status": "READ"}))
    return reg, reports


def lambda_like(table: Table, shard: str, records: list[dict[str, Any]], rng: random.Random, chaos: Callable) -> None:
    """Windows of 1 to 80 records in batches of 1 to 50; a call fails now and then (after its writes) and is
    called again with the state it was given, whole or in halves, as Lambda retries and bisects."""
    cursor = 0
    while cursor < len(records):
        window = records[cursor : cursor + rng.randint(1, 80)]
        cursor += len(window)
        state: dict[str, Any] = {}
        batches = []
        while window:
            size = rng.randint(1, 50)
            batches.append(window[:size])
            window = window[size:]
        batches.append([])
        while batches:
            batch = batches.pop(0)
            outcome = handle_batch(shard, batch, None, table.stats, table.card, Window(state, final=not batch))
            if chaos():  # a later step failed: the same call again, or its halves
                if len(batch) > 1 and rng.random() < 0.5:
                    batches[:0] = [batch[: len(batch) // 2], batch[len(batch) // 2 :]]
                else:
                    batches.insert(0, batch)
                continue
            state = outcome.state


def test_after_shuffled_retries_the_stream_kept_scorecard_equals_the_recount(
    local: Table, dynamodb_local: Server
) -> None:
    rng = random.Random(20261125)
    store = MessageStore(local.name, client=local.client)
    lives = [life(rng, n) for n in range(120)]
    sends: list[Callable[[], Any]] = []
    for reg, reports in lives:
        sends += [lambda reg=reg: store.register(reg, reg.submitted_at)] * 2
        sends += [lambda r=r: store.apply(r) for r in reports for _ in range(3)]  # every report three times
    rng.shuffle(sends)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda send: send(), sends))
    stream = read_stream(dynamodb_local.endpoint, local.name, limit=1000)
    assert len(stream.records) >= 240  # a registration and a final report each, at least
    lambda_like(local, stream.shard, stream.records, rng, chaos=lambda: rng.random() < 0.15)
    kept = local.figures()
    assert sum(figures["sub"] for figures in kept.values()) == 120

    recounter = Recounter(local.name, local.client)
    recounted: dict[tuple[str, str, str], Figures] = {}
    for provider in ("innopaas", "vonage", "awseum"):
        for account in ("main", "eu"):
            result = recounter.recount_scorecard(provider, account, *DAY, dry_run=True)
            for row in sheets(result.rows.items()):
                recounted[(row.provider, row.account, row.country)] = row.figures
    assert kept == recounted
    # Rewritten by the recount (one item per row), the scorecard reads the same.
    for provider in ("innopaas", "vonage", "awseum"):
        for account in ("main", "eu"):
            recounter.recount_scorecard(provider, account, *DAY)
    assert local.figures() == kept
    assert {key[2] for key in kept} >= {"ID", "GB", "CA", "US"}


def test_recount_replaces_every_writers_items_of_an_hour(local: Table, dynamodb_local: Server) -> None:
    write_story(MessageStore(local.name, client=local.client))
    stream = read_stream(dynamodb_local.endpoint, local.name)
    handle_batch("shard-a", stream.records[:3], None, local.stats, local.card)
    handle_batch("shard-b", stream.records[3:], None, local.stats, local.card)
    stray = RowKey("innopaas", "demo", "FR", HOUR)
    local.card.write("shard-c", "1", "1", {stray: {"sub": Decimal(5)}})
    assert set(local.figures()) == {("innopaas", "demo", "ID"), ("innopaas", "demo", "FR")}
    result = Recounter(local.name, local.client).recount_scorecard("innopaas", "demo", *DAY)
    assert (result.hours, result.messages) == (24, 3)
    assert local.figures() == {("innopaas", "demo", "ID"): STORY}
    hour = {":pk": {"S": f"CARD#{HOUR}"}}
    items = local.client.query(TableName=local.name, KeyConditionExpression="pk = :pk", ExpressionAttributeValues=hour)
    assert [item["sk"]["S"] for item in items["Items"]] == ["innopaas#demo#ID#recount"]
