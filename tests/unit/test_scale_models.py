"""The scale benchmark's pure parts: the generated day, the models it judges by, the month's bill.

Each model is checked on this template (the scale fixes pass) and on the same template
with the old defaults put back (the model must catch what broke before).
"""

from __future__ import annotations

import copy
from collections import Counter

import pytest

from dlrhub_measure.aws import tree_template
from dlrhub_measure.scale import bill, models, traffic
from tests.support import ROOT

#: The lines of the month's bill that the per-report cost leaves out (make bench and make bench-scale print them).
BILL_LINES = (
    "Lambda stream function",
    "DynamoDB counters+checkpoints",
    "EventBridge PutEvents",
    "CloudWatch Logs",
    "X-Ray traces",
    "Secrets Manager",
    "DynamoDB PITR",
    "DynamoDB storage",
)


def resolved(**defaults: object) -> models.Resolved:
    template = tree_template(ROOT)
    template.doc = copy.deepcopy(template.doc)
    for name, value in defaults.items():
        template.doc["Parameters"][name]["Default"] = value
    return models.Resolved(template)


def measured(**changes: object) -> bill.Measured:
    base = {
        "webhook_ms": 12.0,
        "webhook_log_bytes": 300.0,
        "units": {"registration": 3.0, "pending report": 1.0, "final report": 2.0},
        "stream_ms_per_batch": 60.0,
        "stream_units_per_record": 0.05,
        "stream_log_bytes_per_batch": 0.0,
        "item_bytes": 900.0,
        "index_bytes": 150.0,
        "poll_seconds": {"window": 20.0, "by-id": 280.0},
    }
    return bill.Measured(**(base | changes))  # type: ignore[arg-type]


# -- the generated day --------------------------------------------------------------------------


def test_the_day_has_ten_million_messages_three_reports_each_and_its_peak() -> None:
    curve = traffic.day_curve()
    assert len(curve) == 86_400
    assert sum(curve) == pytest.approx(30_000_000, rel=1e-6)
    peak = curve[traffic.PEAK_START : traffic.PEAK_START + traffic.PEAK_SECONDS]
    assert set(peak) == {2_000}
    assert max(curve[: traffic.PEAK_START]) < 2_000


def test_fifty_accounts_one_with_forty_percent() -> None:
    accounts = traffic.accounts()
    assert len(accounts) == 50
    assert sum(a.share for a in accounts) == pytest.approx(1.0)
    biggest = max(accounts, key=lambda a: a.share)
    assert (biggest.provider, biggest.name) == traffic.BIG_ACCOUNT
    assert max(a.share for a in accounts) == 0.40
    assert {a.provider for a in accounts} == set(traffic.PROVIDER_SHARES)


def test_a_peak_second_is_seeded_and_at_full_rate() -> None:
    first, again = traffic.peak_seconds(7, 2), traffic.peak_seconds(7, 2)
    assert [s.reports for s in first] == [s.reports for s in again]
    second = first[0]
    assert len(second.reports) == 2_000
    campaign = [r for r in second.registrations if r[3] is not None]
    assert len(campaign) == traffic.CAMPAIGN_PER_SECOND
    assert all(r[:2] == traffic.BIG_ACCOUNT for r in campaign)
    big = Counter(r[:2] == traffic.BIG_ACCOUNT for r in second.registrations if r[3] is None)
    assert big[True] / sum(big.values()) == pytest.approx(0.40, abs=0.06)
    ids = [r[2] for r in second.registrations] + [r[2] for r in second.reports]
    assert all(i.isdigit() for i in ids)  # every provider's id format takes it
    finals = sum(1 for r in second.reports if r[3] != "PENDING")
    assert finals / len(second.reports) == pytest.approx(1 / 3, abs=0.05)
    # Webcom sends arrays, Huawei is polled: fewer requests than reports
    requests = second.requests()
    assert "huawei" not in requests
    assert sum(requests.values()) < len(second.reports)


# -- the models, on this template and with the old defaults --------------------------------------


def test_ingress_takes_the_peak_now_and_loses_twilio_reports_at_the_old_limits() -> None:
    now = models.ingress(resolved(), seed=18, webhook_ms=12.0)
    assert now["passed"]
    assert now["refused_share"] == 0
    assert {"4xx", "5xx"} <= set(now["api_alarms"])
    old = resolved(WebhookThrottleRate=1000, WebhookThrottleBurst=500)
    before = models.ingress(old, seed=18, webhook_ms=12.0)
    assert not before["passed"]
    assert before["refused_share"] > 0.3
    assert set(before["lost"]) == {"twilio"}  # the one provider that does not send a refused callback again
    assert before["lost"]["twilio"] > 10_000


def test_stream_shards_against_a_reserved_concurrency_of_five() -> None:
    peak = {"writes_per_second": 3_867.0}
    now = models.stream_capacity(resolved(), measured(), peak, scale=1.0)
    assert now["shards"] >= 8
    assert now["reserved"] is None
    assert now["passed"]
    assert not now["ttl_removals_pass"]
    before = models.stream_capacity(resolved(StreamConcurrency=5), measured(), peak, scale=1.0)
    assert before["reserved"] == 5
    assert before["lanes"] == 5
    assert not before["passed"]


def test_callbacks_at_twenty_a_second_are_lost_and_at_three_hundred_wait_but_arrive() -> None:
    now = models.callbacks(resolved())
    assert now["rate"] == 300
    assert now["passed"]
    assert now["all"]["lost_per_day"] == 0
    assert now["final only"]["longest_wait_seconds"] < now["all"]["longest_wait_seconds"] < 24 * 3600
    before = models.callbacks(resolved(CallbackRateLimit=20))
    assert not before["passed"]
    # 20 a second is 1.7 M a day against 20 M status changes: nearly all of them are lost
    assert before["all"]["lost_per_day"] > 15_000_000


def test_the_template_resolves_conditions_as_cloudformation_does() -> None:
    reserved = resolved(WebhookConcurrency=0)
    assert reserved.function("WebhookFunction", "ReservedConcurrentExecutions") is None
    assert resolved(WebhookConcurrency=120).function("WebhookFunction", "ReservedConcurrentExecutions") == 120
    assert resolved(WebhookThrottleRate=77).webhook_throttle()[0] == 77


# -- the bill ------------------------------------------------------------------------------------


def test_the_bill_has_every_line_of_the_month() -> None:
    lines = bill.monthly(ROOT, measured())
    assert set(BILL_LINES) <= {line.name for line in lines}
    assert all(line.usd >= 0 for line in lines)
    by_name = {line.name: line.usd for line in lines}
    # 10 M messages x 2 events x 30.4 days at $1 a million
    assert by_name["EventBridge PutEvents"] == pytest.approx(10 * 2 * 730 / 24, rel=1e-6)
    # 90 days of 1,050 B messages: about 880 GB at $0.25 and $0.20
    gb = 10_000_000 * 90 * 1_050 / 2**30
    assert by_name["DynamoDB storage"] == pytest.approx(gb * 0.25)
    assert by_name["DynamoDB PITR"] == pytest.approx(gb * 0.20)


def test_the_bill_follows_the_measured_figures() -> None:
    cheap, dear = bill.monthly(ROOT, measured()), bill.monthly(ROOT, measured(webhook_ms=120.0))
    cheap_by, dear_by = ({line.name: line.usd for line in lines} for lines in (cheap, dear))
    assert dear_by["Lambda webhook"] == pytest.approx(cheap_by["Lambda webhook"] * 10, rel=0.01)
    units = measured(units={"registration": 6.0, "pending report": 1.0, "final report": 2.0})
    assert {line.name: line.usd for line in bill.monthly(ROOT, units)}["DynamoDB registrations"] == pytest.approx(
        2 * cheap_by["DynamoDB registrations"]
    )


def test_stream_invocations_follow_the_day_and_the_shards() -> None:
    few = bill.stream_invocations_per_day(50, 1, 1, tumbling=False)
    many = bill.stream_invocations_per_day(50, 1, 80, tumbling=False)
    # one shard: every batch full at 50 records (40 M writes a day); 80 shards: mostly one batch a second each
    assert few == pytest.approx(40_000_000 / 50, rel=0.1)
    assert many > few
    assert bill.stream_invocations_per_day(50, 1, 80, tumbling=True) - many == 80 * 24 * 60
