"""The Poller against the provider simulators over real HTTP, with moto server's DynamoDB."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dlrhub.adapters.http import HttpClient
from dlrhub.domain.status import Status
from dlrhub.domain.times import iso
from dlrhub.providers.infin8linx import Infin8linxApi, Infin8linxClient
from dlrhub_local.simulators import HuaweiSimulator, Infin8linxSimulator, InnoPaaSSimulator, WebcomSimulator
from tests.poller_support import (
    FAST,
    FAST_HTTP,
    FailingStore,
    ObservedStore,
    PollHarness,
    no_time,
)

SPID, SPID_PASSWORD = "spid-1", "password-1"
AK, SK, TOKEN = "AK-1", "SK-1", "token-1"
LOGIN, LOGIN_PASSWORD = "login-1", "password-1"
API_ACCOUNT, API_PASSWORD = "api-1", "api-password-1"


@pytest.fixture(scope="module")
def harness(moto_server: Any) -> PollHarness:
    return PollHarness.create(moto_server.endpoint)


@pytest.fixture
def infin8linx() -> Iterator[Infin8linxSimulator]:
    with Infin8linxSimulator({SPID: SPID_PASSWORD}) as simulator:
        yield simulator


@pytest.fixture
def huawei() -> Iterator[HuaweiSimulator]:
    with HuaweiSimulator(keys={AK: SK}, tokens=(TOKEN,)) as simulator:
        yield simulator


@pytest.fixture
def webcom() -> Iterator[WebcomSimulator]:
    with WebcomSimulator({LOGIN: LOGIN_PASSWORD}) as simulator:
        yield simulator


@pytest.fixture
def innopaas() -> Iterator[InnoPaaSSimulator]:
    with InnoPaaSSimulator({API_ACCOUNT: API_PASSWORD}) as simulator:
        yield simulator


def asked_ids(simulator: Infin8linxSimulator) -> list[list[str]]:
    return [str(request.param("msgid")).split(",") for request in simulator.received("/sms/state")]


def checkpoint(harness: PollHarness, account: str) -> str | None:
    return harness.coordination().checkpoint(f"huawei#{account}")


# -- Infin8linx: GET /sms/state, up to 100 ids a request ------------------------------------


def test_infin8linx_250_pending_take_3_requests_of_at_most_100(
    harness: PollHarness, infin8linx: Infin8linxSimulator
) -> None:
    account = harness.account("infin8linx", infin8linx.account_secret(SPID))
    ids = harness.register("infin8linx", account, [str(36_160_000_000 + i) for i in range(250)])
    expected = {}
    for i, message_id in enumerate(ids):
        state = 1 if i % 5 == 0 else 2 if i % 5 == 1 else 0  # 50 delivered, 50 failed, 150 without a receipt yet
        infin8linx.add(message_id, state)
        expected[message_id] = {0: "PENDING", 1: "DELIVERED", 2: "FAILED"}[state]

    run = harness.run("infin8linx", account)

    batches = asked_ids(infin8linx)
    assert len(batches) == 3
    assert max(len(batch) for batch in batches) <= 100
    assert sorted(itertools.chain.from_iterable(batches)) == sorted(ids)
    assert (run.requests, run.stored, run.failures, run.skipped, run.unfinished) == (3, 100, 0, None, False)
    assert harness.account_statuses("infin8linx", account) == expected
    item = harness.item("infin8linx", account, ids[0])
    assert (item["raw_status"], item["source"], item["destination"]) == ("1", "poll", "628131565746")
    still = {mid for mid, status in expected.items() if status == "PENDING"}
    assert harness.pending_ids("infin8linx", account) == still

    again = harness.run("infin8linx", account)
    assert (again.requests, again.stored) == (2, 0)
    assert sorted(itertools.chain.from_iterable(asked_ids(infin8linx)[3:])) == sorted(still)


def test_infin8linx_code_102_is_retried_with_a_fresh_timestamp(infin8linx: Infin8linxSimulator) -> None:
    """The simulator really checks the ±10 s: a stale first signature is refused, the re-signed retry taken."""
    infin8linx.add("36160109669", 1)
    stale = [time.time() - 60]
    config = Infin8linxApi.model_validate(infin8linx.account_secret(SPID))
    client = Infin8linxClient("a", config, HttpClient(FAST_HTTP), clock=lambda: stale.pop() if stale else time.time())

    [report] = client.query(["36160109669"])

    assert report.status is Status.DELIVERED
    first, second = infin8linx.received("/sms/state")
    assert int(str(second.param("timestamp"))) - int(str(first.param("timestamp"))) >= 59
    assert first.param("pwd") != second.param("pwd")


@pytest.mark.parametrize("code", [102, 120])
def test_infin8linx_codes_102_and_120_are_retried(
    harness: PollHarness, infin8linx: Infin8linxSimulator, code: int
) -> None:
    account = harness.account("infin8linx", infin8linx.account_secret(SPID))
    ids = harness.register("infin8linx", account, [f"r{code}-{i}" for i in range(5)])
    for message_id in ids:
        infin8linx.add(message_id, 1)
    infin8linx.code_next(1, code)

    run = harness.run("infin8linx", account)

    assert infin8linx.requests == 2
    assert (run.requests, run.stored, run.failures) == (1, 5, 0)


def test_infin8linx_a_clock_off_by_a_minute_fails_the_batch_not_the_account(
    harness: PollHarness,
) -> None:
    with Infin8linxSimulator({SPID: SPID_PASSWORD}, clock=lambda: time.time() + 60) as skewed:
        account = harness.account("infin8linx", skewed.account_secret(SPID))
        ids = harness.register("infin8linx", account, ["skew-1", "skew-2"])
        for message_id in ids:
            skewed.add(message_id, 1)

        run = harness.run("infin8linx", account)

        assert skewed.requests == 3  # re-signed twice, each time refused with 102
    assert (run.stored, run.failures, run.skipped) == (0, 1, None)
    assert set(harness.statuses("infin8linx", account, ids).values()) == {"PENDING"}


@pytest.mark.parametrize(("wrong", "code"), [("password", 104), ("spid", 103)])
def test_infin8linx_refused_credentials_skip_that_account_only(
    harness: PollHarness, infin8linx: Infin8linxSimulator, wrong: str, code: int
) -> None:
    good = harness.account("infin8linx", infin8linx.account_secret(SPID))
    bad = harness.account("infin8linx", {**infin8linx.account_secret(SPID), wrong: "not-this-one"})
    ids = [f"cred-{i}" for i in range(5)]
    for account in (good, bad):
        harness.register("infin8linx", account, ids)
    for message_id in ids:
        infin8linx.add(message_id, 1)

    bad_run, good_run = harness.poller().run([("infin8linx", bad), ("infin8linx", good)])

    assert bad_run.misconfigured is not None
    assert bad_run.refused
    assert f"code {code}" in bad_run.misconfigured
    assert (bad_run.outcome, bad_run.stored, bad_run.failures) == ("misconfigured", 0, 0)
    assert set(harness.statuses("infin8linx", bad, ids).values()) == {"PENDING"}
    assert (good_run.skipped, good_run.stored, good_run.failures) == (None, 5, 0)
    assert set(harness.statuses("infin8linx", good, ids).values()) == {"DELIVERED"}


def test_infin8linx_5xx_and_429_are_retried_with_backoff(harness: PollHarness, infin8linx: Infin8linxSimulator) -> None:
    account = harness.account("infin8linx", infin8linx.account_secret(SPID))
    ids = harness.register("infin8linx", account, [f"busy-{i}" for i in range(5)])
    for message_id in ids:
        infin8linx.add(message_id, 2)
    infin8linx.fail_next(2, 503)
    infin8linx.throttle_next(1, retry_after=1)

    run = harness.run("infin8linx", account, http=replace(FAST_HTTP, retries=3, backoff=0.05))

    times = [request.received_at for request in infin8linx.received("/sms/state")]
    assert len(times) == 4
    assert times[2] - times[1] >= 0.09  # backoff: 0.05 * 2 before the second retry
    assert times[3] - times[2] >= 0.9  # Retry-After: 1 honoured
    assert (run.requests, run.stored, run.failures) == (1, 5, 0)
    assert set(harness.statuses("infin8linx", account, ids).values()) == {"FAILED"}


def test_infin8linx_a_timeout_fails_the_batch_and_the_next_run_finishes(
    harness: PollHarness, infin8linx: Infin8linxSimulator
) -> None:
    account = harness.account("infin8linx", infin8linx.account_secret(SPID))
    ids = harness.register("infin8linx", account, [f"slow-{i}" for i in range(5)])
    for message_id in ids:
        infin8linx.add(message_id, 1)
    infin8linx.stall_next(2, seconds=3)  # longer than the read timeout, for the request and its retry
    http = replace(FAST_HTTP, read_timeout=0.3, retries=1)

    started = time.monotonic()
    first = harness.run("infin8linx", account, http=http)
    assert time.monotonic() - started < 2.5

    assert infin8linx.requests == 2
    assert (first.stored, first.failures) == (0, 1)
    assert harness.pending_ids("infin8linx", account) == set(ids)
    second = harness.run("infin8linx", account, http=http)
    assert (second.stored, second.failures) == (5, 0)
    assert harness.pending_ids("infin8linx", account) == set()


def test_a_store_failure_in_a_batch_is_counted_not_lost(harness: PollHarness, infin8linx: Infin8linxSimulator) -> None:
    account = harness.account("infin8linx", infin8linx.account_secret(SPID))
    ids = harness.register("infin8linx", account, ["st-1", "st-2"])
    for message_id in ids:
        infin8linx.add(message_id, 1)

    run = harness.run("infin8linx", account, store=FailingStore(harness.table, client=harness.client, fail_from=1))

    assert (run.requests, run.stored, run.failures) == (1, 0, 1)
    assert harness.pending_ids("infin8linx", account) == set(ids)


# -- rules every provider shares -----------------------------------------------------------


@pytest.mark.parametrize("closed_as", [Status.UNKNOWN, Status.EXPIRED])
def test_messages_older_than_max_pending_age_are_closed_with_no_receipt(
    harness: PollHarness, infin8linx: Infin8linxSimulator, closed_as: Status
) -> None:
    account = harness.account("infin8linx", infin8linx.account_secret(SPID))
    old = harness.register(
        "infin8linx", account, [f"old-{i}" for i in range(4)], submitted_at=datetime.now(UTC) - timedelta(hours=2)
    )
    young = harness.register("infin8linx", account, [f"young-{i}" for i in range(3)])
    for message_id in young:
        infin8linx.add(message_id, 1)
    settings = replace(FAST, max_pending_age=timedelta(hours=1), no_receipt_status=closed_as)

    run = harness.run("infin8linx", account, settings=settings)

    assert (run.closed, run.stored) == (4, 3)
    for message_id in old:
        item = harness.item("infin8linx", account, message_id)
        assert (item["status"], item["raw_status"], item["source"]) == (closed_as.value, "no receipt", "rule")
        assert "pending_pk" not in item
    assert set(itertools.chain.from_iterable(asked_ids(infin8linx))) == set(young)  # closed ones are not asked about
    assert harness.index_items("infin8linx", account) == 0


def setup_provider(harness: PollHarness, provider: str, stack: Any) -> tuple[Any, str, list[str]]:
    """A started simulator of ``provider``, an account on it, and messages that are final there."""
    ids = [f"{i + 1000}" for i in range(3)]
    if provider == "infin8linx":
        simulator = stack.enter_context(Infin8linxSimulator({SPID: SPID_PASSWORD}))
        secret = simulator.account_secret(SPID)
        for message_id in ids:
            simulator.add(message_id, 1)
    elif provider == "huawei":
        simulator = stack.enter_context(HuaweiSimulator(keys={AK: SK}))
        secret = simulator.account_secret()
        for message_id in ids:
            simulator.add(message_id, 1)
    elif provider == "webcom":
        simulator = stack.enter_context(WebcomSimulator({LOGIN: LOGIN_PASSWORD}))
        secret = simulator.account_secret()
        for message_id in ids:
            simulator.add(message_id, "deliver")
    else:
        simulator = stack.enter_context(InnoPaaSSimulator({API_ACCOUNT: API_PASSWORD}))
        secret = simulator.account_secret(API_ACCOUNT)
        for message_id in ids:
            simulator.add(API_ACCOUNT, message_id)
    account = harness.account(provider, secret)
    harness.register(provider, account, ids)
    return simulator, account, ids


@pytest.mark.parametrize("provider", ["infin8linx", "huawei", "webcom", "innopaas"])
def test_no_request_starts_when_time_is_short_and_the_next_run_resumes(harness: PollHarness, provider: str) -> None:
    with ExitStack() as stack:
        simulator, account, ids = setup_provider(harness, provider, stack)

        short = harness.run(provider, account, remaining=no_time)

        assert simulator.requests == 0
        assert (short.requests, short.stored, short.unfinished) == (0, 0, True)
        assert set(harness.statuses(provider, account, ids).values()) == {"PENDING"}
        resumed = harness.run(provider, account)
        assert (resumed.stored, resumed.unfinished) == (3, False)
        assert set(harness.statuses(provider, account, ids).values()) == {"DELIVERED"}


def test_two_concurrent_runs_on_one_account_only_one_works_it(
    harness: PollHarness, infin8linx: Infin8linxSimulator
) -> None:
    account = harness.account("infin8linx", infin8linx.account_secret(SPID))
    ids = harness.register("infin8linx", account, ["lease-1", "lease-2", "lease-3"])
    for message_id in ids:
        infin8linx.add(message_id, 1)
    infin8linx.latency = 0.6  # below the read timeout: slow, not failed
    results: dict[str, Any] = {}
    first = threading.Thread(target=lambda: results.update(first=harness.run("infin8linx", account)))
    first.start()
    deadline = time.monotonic() + 5
    while infin8linx.requests < 1 and time.monotonic() < deadline:
        time.sleep(0.02)

    second = harness.run("infin8linx", account)
    first.join(10)

    assert (second.skipped, second.requests) == ("another run holds the account", 0)
    assert (results["first"].skipped, results["first"].stored) == (None, 3)
    assert infin8linx.requests == 1
    infin8linx.latency = 0
    assert harness.run("infin8linx", account).skipped is None  # the lease was given back


def test_a_dead_runs_lease_expires(harness: PollHarness, infin8linx: Infin8linxSimulator) -> None:
    account = harness.account("infin8linx", infin8linx.account_secret(SPID))
    harness.register("infin8linx", account, ["dead-1"])
    infin8linx.add("dead-1", 1)
    lease = f"poller#infin8linx#{account}"
    now = datetime.now(UTC)
    assert harness.coordination().acquire(lease, "crashed-run", now, FAST.lease)

    assert harness.run("infin8linx", account).skipped == "another run holds the account"
    later = now + FAST.lease + timedelta(seconds=1)
    assert harness.run("infin8linx", account, clock=lambda: later).stored == 1


# -- Huawei: a time window, paged, with overlap and a checkpoint ----------------------------


@pytest.mark.parametrize("count_mode", ["page", "total"])
def test_huawei_pages_through_the_window_and_stores_unregistered_messages(
    harness: PollHarness, count_mode: str
) -> None:
    with HuaweiSimulator(keys={AK: SK}, count_mode=count_mode) as simulator:
        account = harness.account("huawei", simulator.account_secret())
        now = datetime.now(UTC)
        ids = [f"hw{i:03d}" for i in range(201)]
        # Final reports on the first, the middle and the last page, at the page edges; the rest have none yet.
        finals = {0: "DELIVERED", 99: "REJECTED", 100: "DELIVERED", 199: "REJECTED", 200: "DELIVERED"}
        registered = harness.register("huawei", account, [ids[0], ids[100], ids[150]])
        for i, message_id in enumerate(ids):
            status = {"DELIVERED": 1, "REJECTED": 2}.get(finals.get(i, ""), 0)
            desc = "REJECTD" if status == 2 else None
            simulator.add(message_id, status, status_desc=desc, submitted=now.timestamp() - 600 + i)

        run = harness.run("huawei", account, clock=lambda: now)

        pages = simulator.received()
    assert [(r.param("offset"), r.param("limit")) for r in pages] == [("0", "100"), ("100", "100"), ("200", "100")]
    assert (run.requests, run.stored, run.failures, run.unfinished) == (3, 5, 0, False)
    assert harness.statuses("huawei", account, [ids[i] for i in finals]) == {ids[i]: s for i, s in finals.items()}
    unregistered = harness.item("huawei", account, ids[99])
    assert (unregistered["source"], unregistered["raw_status"]) == ("poll", "REJECTD")
    assert "registered_at" not in unregistered
    assert "registered_at" in harness.item("huawei", account, registered[0])
    assert harness.item("huawei", account, ids[1]) is None  # no status yet: nothing to store
    assert harness.pending_ids("huawei", account) == {ids[150]}
    # The earliest message without a status holds the checkpoint (see the next tests).
    assert checkpoint(harness, account) == iso(datetime.fromtimestamp(int(now.timestamp() - 600 + 1), UTC))


@pytest.mark.parametrize(("overlap", "caught"), [(timedelta(minutes=10), True), (timedelta(0), False)])
def test_huawei_overlap_catches_a_report_at_the_window_boundary(
    harness: PollHarness, huawei: HuaweiSimulator, overlap: timedelta, caught: bool
) -> None:
    account = harness.account("huawei", huawei.account_secret())
    settings = replace(FAST, feed_overlap=overlap)
    first_end = datetime.now(UTC).replace(microsecond=0)
    huawei.add("hw-early", 1, submitted=first_end.timestamp() - 60)
    first = harness.run("huawei", account, settings=settings, clock=lambda: first_end)
    assert first.stored == 1
    assert checkpoint(harness, account) == iso(first_end)

    # Shows up only after the first run, though sent 1 s before that run's window ended.
    huawei.add("hw-boundary", 1, submitted=first_end.timestamp() - 1)
    second_end = first_end + timedelta(seconds=30)
    second = harness.run("huawei", account, settings=settings, clock=lambda: second_end)

    assert (harness.item("huawei", account, "hw-boundary") is not None) is caught
    assert second.stored == (1 if caught else 0)
    assert checkpoint(harness, account) == iso(second_end)


def test_huawei_window_stays_open_for_a_message_still_without_status(
    harness: PollHarness, huawei: HuaweiSimulator
) -> None:
    """The window is on submit time: a report coming 30 min after sending must not fall behind it."""
    account = harness.account("huawei", huawei.account_secret())
    first_end = datetime.now(UTC).replace(microsecond=0)
    sent = first_end - timedelta(minutes=30)
    harness.register("huawei", account, ["hw-late"], submitted_at=sent)
    huawei.add("hw-late", 1, submitted=sent.timestamp(), after=3600)  # no status yet

    first = harness.run("huawei", account, clock=lambda: first_end)
    assert first.stored == 0
    assert checkpoint(harness, account) == iso(sent)

    huawei.add("hw-late", 1, submitted=sent.timestamp())  # the report comes
    second_end = first_end + timedelta(minutes=20)
    second = harness.run("huawei", account, clock=lambda: second_end)

    assert second.stored == 1
    assert harness.item("huawei", account, "hw-late")["status"] == "DELIVERED"
    assert checkpoint(harness, account) == iso(second_end)


@pytest.mark.parametrize("auth", ["aksk", "token"])
def test_huawei_signed_and_token_requests_are_taken(harness: PollHarness, huawei: HuaweiSimulator, auth: str) -> None:
    secret = huawei.account_secret(token=TOKEN) if auth == "token" else huawei.account_secret(ak=AK)
    account = harness.account("huawei", secret)
    huawei.add(f"hw-{auth}", 1)
    run = harness.run("huawei", account)
    assert (run.stored, run.skipped) == (1, None)
    [request] = huawei.received()
    assert ("x-auth-token" in request.headers) is (auth == "token")


@pytest.mark.parametrize(("key", "value"), [("sk", "not-the-sk"), ("ak", "AK-UNKNOWN"), ("auth_token", "expired")])
def test_huawei_refused_credentials_skip_the_account(
    harness: PollHarness, huawei: HuaweiSimulator, key: str, value: str
) -> None:
    secret = huawei.account_secret(token=TOKEN) if key == "auth_token" else huawei.account_secret()
    account = harness.account("huawei", {**secret, key: value})
    huawei.add("hw-refused", 1)
    run = harness.run("huawei", account)
    assert run.misconfigured is not None
    assert run.refused
    assert "401" in run.misconfigured
    assert harness.item("huawei", account, "hw-refused") is None
    assert checkpoint(harness, account) is None


# -- Webcom Mobi: one id a request, JSON or GET ---------------------------------------------

WEBCOM_STATES = {
    "82216": ("deliver", "DELIVERED"),
    "82217": ("not_deliver", "FAILED"),
    "82218": ("read", "READ"),
    "82219": ("expired", "EXPIRED"),
    "82220": ("send", "PENDING"),
    "82221": ("partly_deliver", "PENDING"),
}


@pytest.mark.parametrize(
    ("query", "get_format"), [("json", "json"), ("get", "json"), ("get", "array"), ("get", "form"), ("get", "word")]
)
def test_webcom_pending_messages_reach_final_statuses(
    harness: PollHarness, webcom: WebcomSimulator, query: str, get_format: str
) -> None:
    webcom.get_format = get_format
    account = harness.account("webcom", webcom.account_secret(query=query))
    ids = harness.register("webcom", account, WEBCOM_STATES)
    for message_id, (word, _) in WEBCOM_STATES.items():
        webcom.add(message_id, word)

    run = harness.run("webcom", account)

    path = "/json/state.php" if query == "json" else "/sendsms.php"
    assert webcom.requests_to(path) == webcom.requests == 6
    assert (run.requests, run.stored, run.failures) == (6, 4, 0)
    assert harness.statuses("webcom", account, ids) == {mid: status for mid, (_, status) in WEBCOM_STATES.items()}
    item = harness.item("webcom", account, "82216")
    assert (item["raw_status"], item["source"]) == ("deliver", "poll")
    told = webcom.status_of(82216)
    assert told is not None
    if get_format == "word":
        assert "provider_time" not in item  # a bare word carries no time
    else:
        sent = datetime.strptime(told["time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=webcom.zone)
        assert item["provider_time"] == iso(sent)
    assert harness.pending_ids("webcom", account) == {"82220", "82221"}


def test_webcom_an_unparseable_get_reply_is_an_error_not_a_status(
    harness: PollHarness, webcom: WebcomSimulator
) -> None:
    webcom.get_format = "garbage"
    account = harness.account("webcom", webcom.account_secret(query="get"))
    ids = harness.register("webcom", account, [str(90_000 + i) for i in range(5)])
    for message_id in ids:
        webcom.add(message_id, "deliver")

    run = harness.run("webcom", account, settings=replace(FAST, concurrency=1))

    assert webcom.requests == 3  # three failures in a row: the account is left for the next run
    assert (run.stored, run.failures, run.unfinished) == (0, 3, True)
    for message_id in ids:
        item = harness.item("webcom", account, message_id)
        assert item["status"] == "PENDING"
        assert "raw_status" not in item  # nothing was applied


def test_webcom_wrong_password_skips_the_account(harness: PollHarness, webcom: WebcomSimulator) -> None:
    account = harness.account("webcom", {**webcom.account_secret(), "password": "wrong"})
    harness.register("webcom", account, ["82230"])
    webcom.add("82230", "deliver")
    run = harness.run("webcom", account)
    assert run.misconfigured is not None
    assert "Incorrect login or password" in run.misconfigured
    assert webcom.requests == 1


# -- InnoPaaS: pull until empty; pulled records are gone at the provider ---------------------


def innopaas_records(simulator: InnoPaaSSimulator, count: int) -> list[str]:
    ids = [f"62723944573645{i:04d}" for i in range(count)]
    for i, message_id in enumerate(ids):
        simulator.add(API_ACCOUNT, message_id, "DELIVRD" if i % 4 else "REJECTD")
    return ids


def test_innopaas_pulls_until_empty_storing_each_batch_before_the_next(
    harness: PollHarness, innopaas: InnoPaaSSimulator
) -> None:
    account = harness.account("innopaas", innopaas.account_secret(API_ACCOUNT))
    ids = innopaas_records(innopaas, 150)
    harness.register("innopaas", account, ids[::5])
    pulls_when_stored: dict[str, int] = {}
    store = ObservedStore(
        harness.table,
        client=harness.client,
        observe=lambda report: pulls_when_stored.update({report.message_id: innopaas.requests_to("/pull/report")}),
    )

    run = harness.run("innopaas", account, store=store)

    pulled = [item["msgid"] for _, item in innopaas.pulled]
    assert sorted(pulled) == sorted(ids)
    # The n-th hundred was stored while the simulator had seen exactly n pulls: before the next one.
    assert [pulls_when_stored[mid] for mid in pulled] == [1 + position // 100 for position in range(150)]
    assert innopaas.requests_to("/pull/report") == 3  # 100, 50, then empty
    assert (run.requests, run.stored, run.failures) == (3, 150, 0)
    assert innopaas.held(API_ACCOUNT) == 0
    statuses = harness.account_statuses("innopaas", account)
    assert statuses == {mid: "REJECTED" if i % 4 == 0 else "DELIVERED" for i, mid in enumerate(ids)}
    assert harness.pending_ids("innopaas", account) == set()


def test_innopaas_a_store_failure_stops_the_pulling(harness: PollHarness, innopaas: InnoPaaSSimulator) -> None:
    account = harness.account("innopaas", innopaas.account_secret(API_ACCOUNT))
    ids = innopaas_records(innopaas, 130)
    store = FailingStore(harness.table, client=harness.client, fail_from=1)

    run = harness.run("innopaas", account, store=store)

    assert innopaas.requests_to("/pull/report") == 1  # no second pull after the first batch failed to store
    assert innopaas.held(API_ACCOUNT) == 30  # never pulled: still at InnoPaaS for the next run
    assert (run.stored, run.failures) == (0, 1)
    resumed = harness.run("innopaas", account)
    assert (resumed.stored, innopaas.held(API_ACCOUNT)) == (30, 0)
    stored = {mid for mid, status in harness.statuses("innopaas", account, ids).items() if status}
    assert stored == {item["msgid"] for _, item in innopaas.pulled[100:]}  # the first hundred were lost


def test_innopaas_a_5xx_pull_is_not_retried(harness: PollHarness, innopaas: InnoPaaSSimulator) -> None:
    account = harness.account("innopaas", innopaas.account_secret(API_ACCOUNT))
    innopaas_records(innopaas, 30)
    innopaas.fail_next(1, 503)

    first = harness.run("innopaas", account, http=replace(FAST_HTTP, retries=3))

    assert innopaas.requests == 1  # a pull deletes what it returns: never sent twice
    assert (first.stored, first.failures) == (0, 1)
    assert innopaas.held(API_ACCOUNT) == 30
    second = harness.run("innopaas", account)
    assert (second.stored, second.requests) == (30, 2)


def test_innopaas_wrong_password_skips_the_account(harness: PollHarness, innopaas: InnoPaaSSimulator) -> None:
    account = harness.account("innopaas", {**innopaas.account_secret(API_ACCOUNT), "api_password": "wrong"})
    innopaas_records(innopaas, 3)
    run = harness.run("innopaas", account)
    assert run.misconfigured is not None
    assert run.refused
    assert innopaas.held(API_ACCOUNT) == 3


def test_innopaas_without_pull_keys_is_push_only_and_not_a_failure(
    harness: PollHarness, innopaas: InnoPaaSSimulator
) -> None:
    pull_keys = {"pull_url", "api_account", "api_password"}
    secret = {key: value for key, value in innopaas.account_secret(API_ACCOUNT).items() if key not in pull_keys}
    account = harness.account("innopaas", secret)
    innopaas_records(innopaas, 3)
    run = harness.run("innopaas", account)
    assert (run.outcome, run.requests, run.failures, run.misconfigured, innopaas.requests) == ("skipped", 0, 0, None, 0)
    assert run.skipped is not None
    assert "push only" in run.skipped


def test_innopaas_pull_keys_without_pull_url_are_a_configuration_error_naming_it(
    harness: PollHarness, innopaas: InnoPaaSSimulator
) -> None:
    secret = {key: value for key, value in innopaas.account_secret(API_ACCOUNT).items() if key != "pull_url"}
    account = harness.account("innopaas", secret)
    innopaas_records(innopaas, 3)
    run = harness.run("innopaas", account)
    assert (run.outcome, run.requests, run.failures, innopaas.requests) == ("misconfigured", 0, 0, 0)
    assert run.misconfigured is not None
    assert "pull_url" in run.misconfigured
    assert not run.refused


def test_an_event_input_account_needs_no_secret_and_gets_the_no_receipt_rule(harness: PollHarness) -> None:
    """AWS End User Messaging SMS accounts have no secret (the events name no account): listed in
    PollAccounts, their messages that never got a final event are still closed by rule."""
    account = "eum-no-secret"
    old = harness.register(
        "awseum", account, ["e0000000-0000-4000-8000-000000000001"], submitted_at=datetime.now(UTC) - timedelta(hours=2)
    )
    young = harness.register("awseum", account, ["e0000000-0000-4000-8000-000000000002"])

    run = harness.run("awseum", account, settings=replace(FAST, max_pending_age=timedelta(hours=1)))

    assert (run.closed, run.requests, run.failures, run.misconfigured) == (1, 0, 0, None)
    assert run.skipped is not None
    assert "push only" in run.skipped
    assert harness.statuses("awseum", account, old + young) == {old[0]: "UNKNOWN", young[0]: "PENDING"}


# -- at volume: resume points, bounded closing, a window that cannot stall -----------------


def requests_allowing(simulator: Any, requests: int) -> Callable[[], timedelta]:
    """A function's remaining time that runs out once ``simulator`` has answered ``requests`` requests."""
    return lambda: timedelta(minutes=5) if simulator.requests < requests else timedelta(0)


def webcom_asked(webcom: WebcomSimulator) -> list[str]:
    """The ids the JSON status requests asked about, in order."""
    return [str(request.json()["id_sms"]) for request in webcom.received() if request.path == "/json/state.php"]


def test_webcom_runs_go_round_every_pending_message_from_where_the_last_stopped(
    harness: PollHarness, webcom: WebcomSimulator
) -> None:
    """30 pending, time for 10 requests (one id each) a run: three runs ask about all 30, once each
    (a run that starts at the oldest again never reaches the newest 20); then, with time for all,
    a run goes round once more from the oldest."""
    account = harness.account("webcom", webcom.account_secret())
    ids = harness.register("webcom", account, [str(70_000 + i) for i in range(30)])
    for message_id in ids:
        webcom.add(message_id, "send")  # sent, no receipt yet: pending after every answer
    settings = replace(FAST, concurrency=1)
    runs = [
        harness.run("webcom", account, settings=settings, remaining=requests_allowing(webcom, 10 * (number + 1)))
        for number in range(3)
    ]
    asked = webcom_asked(webcom)
    assert all(run.unfinished and 10 <= run.requests <= 12 for run in runs[:2])  # 2 batches may be queued
    assert len(asked) >= 30
    assert sorted(asked[:30]) == sorted(ids)  # every one asked about, none twice before that
    last = harness.run("webcom", account, settings=settings)  # time for all: round once more
    assert (last.cycled, last.unfinished) == (True, False)
    assert set(webcom_asked(webcom)[len(asked) :]) <= set(ids)
    assert set(asked[30:]) | set(webcom_asked(webcom)[len(asked) :]) == set(ids)


class WriteClock:
    """A function clock that moves 0.1 s with every write of ``store``: 100 s at the start."""

    def __init__(self, harness: PollHarness) -> None:
        self.writes = 0
        self.store = ObservedStore(harness.table, client=harness.client, observe=self._written)

    def _written(self, _: Any) -> None:
        self.writes += 1

    def remaining(self) -> timedelta:
        return timedelta(seconds=100 - 0.1 * self.writes)


def test_closing_by_rule_takes_at_most_its_share_of_the_run_then_polling_goes_on(
    harness: PollHarness, infin8linx: Infin8linxSimulator
) -> None:
    """After an outage: 1,200 messages past the no-receipt age, each write taking 0.1 s of the run.
    The closing stops at half of the run's time (the next run goes on with it) and the young
    messages are still polled in the same run; the closing writes run in parallel."""
    account = harness.account("infin8linx", infin8linx.account_secret(SPID))
    stale = datetime.now(UTC) - timedelta(hours=3)
    harness.register("infin8linx", account, [f"stale-{i}" for i in range(1200)], stale)
    young = harness.register("infin8linx", account, ["fresh-1", "fresh-2"])
    for message_id in young:
        infin8linx.add(message_id, 1)
    settings = replace(FAST, max_pending_age=timedelta(hours=1))
    clock = WriteClock(harness)
    run = harness.run("infin8linx", account, settings=settings, store=clock.store, remaining=clock.remaining)
    assert run.closing_unfinished
    assert 500 <= run.closed <= 1000  # a page of 500 at a time, none started past half the time
    assert run.stored == 2  # the young ones were polled all the same
    rest = harness.run("infin8linx", account, settings=settings)
    assert (rest.closed, rest.closing_unfinished) == (1200 - run.closed, False)


def window_fields(harness: PollHarness, account: str) -> dict[str, Any]:
    return harness.coordination().cursor(f"huawei#{account}")


def test_huawei_a_window_cut_short_resumes_at_its_offset_and_then_moves_on(
    harness: PollHarness, huawei: HuaweiSimulator
) -> None:
    account = harness.account("huawei", huawei.account_secret())
    end = datetime.now(UTC).replace(microsecond=0)
    for i in range(450):
        huawei.add(f"hw-r{i:03d}", 1, submitted=end.timestamp() - 900 + i)
    harness.coordination().save_checkpoint(f"huawei#{account}", iso(end - timedelta(minutes=15)))

    first = harness.run("huawei", account, clock=lambda: end, remaining=requests_allowing(huawei, 2))
    assert (first.requests, first.stored, first.unfinished) == (2, 200, True)
    saved = window_fields(harness, account)
    assert (saved["w_offset"], saved["value"]) == (200, iso(end - timedelta(minutes=15)))

    later = end + timedelta(minutes=5)
    second = harness.run("huawei", account, clock=lambda: later)
    offsets = [request.param("offset") for request in huawei.received()][2:]
    assert offsets[:3] == ["200", "300", "400"]  # the same window, where it stopped
    assert second.stored == 250
    assert not second.unfinished
    # then the next window, to now (and what it read)
    assert window_fields(harness, account) == {"value": iso(later), "seen": iso(later)}


def test_huawei_a_message_never_settled_holds_the_window_back_an_hour_at_most(
    harness: PollHarness, huawei: HuaweiSimulator
) -> None:
    """One message without a status for three hours: the window waits for it one hour, then moves on
    (and says so), so later reports are read and the window does not grow."""
    account = harness.account("huawei", huawei.account_secret())
    now = datetime.now(UTC).replace(microsecond=0)
    huawei.add("hw-stuck", 1, submitted=now.timestamp() - 3 * 3600, after=10 * 3600)  # no status yet
    huawei.add("hw-fresh", 1, submitted=now.timestamp() - 60)
    harness.coordination().save_checkpoint(f"huawei#{account}", iso(now - timedelta(hours=3, minutes=5)))

    run = harness.run("huawei", account, clock=lambda: now)

    assert (run.stored, run.abandoned) == (1, 1)
    assert harness.coordination().checkpoint(f"huawei#{account}") == iso(now - timedelta(hours=1))
    assert run.window_lag_seconds == pytest.approx(3600, abs=5)
    later = now + timedelta(minutes=5)
    again = harness.run("huawei", account, clock=lambda: later)
    start = int(huawei.received()[-1].param("start_time") or 0) / 1000
    assert start == (now - timedelta(hours=1, minutes=10)).timestamp()  # checkpoint - overlap, not 3 h back
    assert again.abandoned == 0


def test_huawei_a_held_back_window_reads_again_but_writes_only_what_settled_since(
    harness: PollHarness, huawei: HuaweiSimulator
) -> None:
    """A message without a status holds the window back, so the next run reads the same hour again:
    the reports it read final the first time are not written again (each would cost a write unit);
    the ones settled since are."""
    account = harness.account("huawei", huawei.account_secret())
    now = datetime.now(UTC).replace(microsecond=0)
    huawei.add("hw-waiting", 1, submitted=now.timestamp() - 1800, after=10 * 3600)
    for i in range(30):  # final long before this run
        huawei.add(f"hw-done{i:02d}", 1, submitted=now.timestamp() - 1700 + i, after=-1500)
    harness.coordination().save_checkpoint(f"huawei#{account}", iso(now - timedelta(minutes=35)))
    first = harness.run("huawei", account, clock=lambda: now)
    assert (first.stored, first.already_read) == (30, 0)

    later = now + timedelta(minutes=5)
    huawei.add("hw-late", 1, submitted=now.timestamp() - 1600, after=-1)  # settled after the first read
    again = harness.run("huawei", account, clock=lambda: later)
    assert again.already_read == 30  # read again (the window is held back), not written again
    assert (again.stored, again.ignored) == (1, 0)
    assert harness.store().get("huawei", account, "hw-late")["status"] == "DELIVERED"
