"""The Infin8linx monitor reporter against the Infin8linx simulator over real HTTP."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import SecretsProvider

from dlrhub.adapters.http import HttpClient, HttpSettings
from dlrhub.adapters.secrets import AccountDirectory
from dlrhub.domain.stats import CounterKey
from dlrhub.providers.contract import Capability
from dlrhub.providers.registry import PROVIDERS
from dlrhub.services.reporter import MonitorReporter, MonitorSettings
from dlrhub.table.counters import StatsStore
from dlrhub.table.leases import Coordination
from dlrhub_local.simulators.infin8linx import Infin8linxSimulator
from tests.support import create_table, put_account_secret, unique_name

HOUR = timedelta(hours=1)
T0 = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # a window boundary
SETTINGS = MonitorSettings(window=HOUR, lag=HOUR, catch_up=timedelta(days=7))
_seq = itertools.count(1)


@pytest.fixture
def simulator() -> Iterator[Infin8linxSimulator]:
    with Infin8linxSimulator({"spid-1": "sim-password"}) as sim:
        yield sim


class Setup:
    def __init__(self, endpoint: str, simulator: Infin8linxSimulator) -> None:
        self.endpoint = endpoint
        client = boto3.client("dynamodb", endpoint_url=endpoint)
        self.table = create_table(endpoint)
        self.prefix = unique_name("monitor")
        self.account = "acct"
        self.targets = [("infin8linx", self.account)]
        put_account_secret(endpoint, "infin8linx", self.account, simulator.account_secret("spid-1"), self.prefix)
        secrets = SecretsProvider(boto3_client=boto3.client("secretsmanager", endpoint_url=endpoint))
        self.directory = AccountDirectory(self.prefix, PROVIDERS, {Capability.MONITOR}, max_age=0, secrets=secrets)
        self.stats = StatsStore(self.table, client=client)
        self.coordination = Coordination(self.table, client=client)
        self.simulator = simulator

    def count(self, bucket: datetime, **counts: int) -> None:
        key = CounterKey("infin8linx", self.account, bucket.strftime("%Y-%m-%dT%H:%M:%SZ"))
        seq = str(next(_seq))
        assert self.stats.apply_batch(f"shard-{seq}", seq, seq, {key: Counter(counts)})

    def reporter(self, now: datetime, owner: str = "run-1") -> MonitorReporter:
        http = HttpClient(HttpSettings(read_timeout=2, retries=1, backoff=0.01))
        return MonitorReporter(
            self.directory, self.stats, self.coordination, http, SETTINGS, owner=owner, clock=lambda: now
        )

    def sent(self) -> list[tuple[int, int, int, int]]:
        return [(r.start_time, r.end_time, r.total, r.success) for r in self.simulator.monitor_reports]


@pytest.fixture
def setup(moto_server: Any, simulator: Infin8linxSimulator) -> Setup:
    return Setup(moto_server.endpoint, simulator)


def window(start: datetime, total: int, success: int) -> tuple[int, int, int, int]:
    return (int(start.timestamp()), int((start + HOUR).timestamp()), total, success)


def test_a_completed_window_is_sent_once_after_the_lag(setup: Setup) -> None:
    setup.count(T0 + timedelta(minutes=5), submitted=3, delivered=2)
    setup.count(T0 + timedelta(minutes=55), submitted=1, failed=1)
    setup.count(T0 + timedelta(minutes=65), submitted=7)  # next window
    first = setup.reporter(T0 + HOUR + timedelta(minutes=59)).run(setup.targets)[0]
    assert first.sent == [window(T0 - HOUR, 0, 0)]  # a first run starts with the latest due window
    run = setup.reporter(T0 + 2 * HOUR).run(setup.targets)[0]
    assert run.sent == [window(T0, 4, 2)]
    assert setup.reporter(T0 + 2 * HOUR + timedelta(minutes=30)).run(setup.targets)[0].sent == []
    assert setup.sent() == [window(T0 - HOUR, 0, 0), window(T0, 4, 2)]
    assert all(report.spid == "spid-1" for report in setup.simulator.monitor_reports)


def test_missed_runs_are_caught_up_in_order(setup: Setup) -> None:
    setup.reporter(T0 + 2 * HOUR).run(setup.targets)
    for hour in range(1, 5):
        setup.count(T0 + hour * HOUR, submitted=hour, delivered=hour - 1)
    run = setup.reporter(T0 + 6 * HOUR).run(setup.targets)[0]
    # due at T0+6h with a 1 h lag: every window ending by T0+5h
    assert run.sent == [window(T0 + h * HOUR, h, h - 1) for h in range(1, 5)]
    assert [s[0] for s in setup.sent()] == sorted(s[0] for s in setup.sent())


def test_late_receipts_count_in_the_window_of_submission(setup: Setup) -> None:
    setup.reporter(T0 + HOUR).run(setup.targets)  # checkpoint: next window starts at T0
    setup.count(T0 + timedelta(minutes=10), submitted=2)
    setup.count(T0 + timedelta(minutes=10), delivered=1)  # a receipt after the window's end
    setup.count(T0 + timedelta(minutes=10), delivered=1)  # ... and one during the lag
    assert setup.reporter(T0 + 2 * HOUR).run(setup.targets)[0].sent == [window(T0, 2, 2)]


def test_a_provider_error_is_not_recorded_and_is_retried_next_run(setup: Setup) -> None:
    setup.reporter(T0 + HOUR).run(setup.targets)
    setup.count(T0, submitted=5, delivered=5)
    setup.simulator.code_next(1, 106)
    failed = setup.reporter(T0 + 2 * HOUR).run(setup.targets)[0]
    assert failed.sent == []
    assert "106" in (failed.failed or "")
    retried = setup.reporter(T0 + 2 * HOUR + timedelta(minutes=5)).run(setup.targets)[0]
    assert retried.sent == [window(T0, 5, 5)]
    assert setup.sent().count(window(T0, 5, 5)) == 1


def test_an_http_failure_stops_the_catch_up_in_order(setup: Setup) -> None:
    setup.reporter(T0 + HOUR).run(setup.targets)
    setup.simulator.fail_next(10, status=500)
    assert setup.reporter(T0 + 4 * HOUR).run(setup.targets)[0].failed
    setup.simulator.clear_faults()
    run = setup.reporter(T0 + 4 * HOUR).run(setup.targets)[0]
    assert [s[0] for s in run.sent] == [int((T0 + h * HOUR).timestamp()) for h in range(3)]


def test_catch_up_is_bounded(setup: Setup) -> None:
    setup.reporter(T0 + HOUR).run(setup.targets)
    later = T0 + timedelta(days=10)
    run = setup.reporter(later).run(setup.targets)[0]
    # from 7 days back up to the last window due (its end an hour before now)
    assert len(run.sent) == 7 * 24 - 1
    assert run.sent[0][0] == int((later - timedelta(days=7)).timestamp())
    assert run.sent[-1][1] == int((later - HOUR).timestamp())


def test_overlapping_runs_never_send_a_window_twice(setup: Setup) -> None:
    setup.reporter(T0 + HOUR).run(setup.targets)
    setup.simulator.latency = 0.05
    now = T0 + 8 * HOUR
    runs: list[Any] = []
    threads = [
        threading.Thread(target=lambda o=owner: runs.extend(setup.reporter(now, o).run(setup.targets)))
        for owner in ("run-a", "run-b", "run-c")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    starts = [s[0] for s in setup.sent()]
    assert len(starts) == len(set(starts)) == 1 + 7  # the first run's window, then T0 .. T0+7h
    assert sum(run.skipped is not None for run in runs) >= 1


def test_push_only_broken_and_good_accounts_in_one_run(setup: Setup, moto_server: Any) -> None:
    """A push-only Infin8linx account (no API keys) listed first made the reporter raise
    KeyError('base_url') on every run, so no account after it was ever reported."""
    put_account_secret(moto_server.endpoint, "infin8linx", "pushonly", {"webhook_secret": "x" * 24}, setup.prefix)
    broken = {**setup.simulator.account_secret("spid-1"), "password": ""}
    put_account_secret(moto_server.endpoint, "infin8linx", "broken", broken, setup.prefix)
    setup.count(T0 + timedelta(minutes=5), submitted=3, delivered=2)
    setup.reporter(T0 + HOUR).run(setup.targets)  # the good account's first run: its checkpoint
    targets = [("infin8linx", "pushonly"), ("infin8linx", "broken"), ("huawei", "demo"), *setup.targets]

    runs = {run.account: run for run in setup.reporter(T0 + 2 * HOUR).run(targets)}

    assert set(runs) == {"pushonly", "broken", setup.account}  # Huawei takes no monitor report
    assert (runs["pushonly"].outcome, runs["pushonly"].skipped) == ("skipped", "no monitor report keys")
    assert runs["broken"].outcome == "misconfigured"
    assert "password" in str(runs["broken"].misconfigured)
    assert runs[setup.account].outcome == "reported"
    assert runs[setup.account].sent == [window(T0, 3, 2)]


def test_one_account_raising_does_not_stop_the_others(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    setup.reporter(T0 + HOUR).run(setup.targets)
    real = setup.stats.buckets

    def failing_for_one(provider: str, account: str, *args: Any) -> Any:
        if account == "first":
            raise RuntimeError("table throttled")
        return real(provider, account, *args)

    monkeypatch.setattr(setup.stats, "buckets", failing_for_one)
    put_account_secret(setup.endpoint, "infin8linx", "first", setup.simulator.account_secret("spid-1"), setup.prefix)
    setup.reporter(T0 + HOUR).run([("infin8linx", "first")])  # its checkpoint

    first, good = setup.reporter(T0 + 2 * HOUR).run([("infin8linx", "first"), *setup.targets])

    assert (first.outcome, first.failed) == ("failed", "RuntimeError")
    assert (good.outcome, good.sent) == ("reported", [window(T0, 0, 0)])
