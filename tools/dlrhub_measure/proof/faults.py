"""Faults through a fault-injecting TCP proxy in front of the real engines (docs/proof.md, "Faults").

DynamoDB Local and moto server are started here, each behind a :class:`~.faultproxy.FaultProxy`,
and the local stack uses them through the proxies (``--dynamodb-endpoint``, ``--aws-endpoint``). No
mock: every fault is a real connection refused, hung or cut.

* **callbacks through table outages**: senders keep sending Infin8linx callbacks while the table's
  proxy passes, refuses, passes, hangs, passes, cuts replies, passes. Pass: every reply 200 or 5xx
  (never a 4xx, never none); every report answered 200 is stored; then each report not answered 200
  is sent again (as its provider would) until answered 200; every message then has exactly one
  history entry. The reply times per mode are printed.
* **Secrets Manager unreachable**: callbacks to accounts not yet read get 503 while moto's proxy
  refuses or hangs, a cached account still 200; after recovery they are taken once.
* **the poller** (driven in-process against the same proxied engines, with provider simulators):
  Secrets Manager unreachable: the account is skipped (no provider request), an account read before
  is polled; provider 5xx, 429, timeouts, malformed replies and busy codes: the messages stay pending
  and the next run stores them; the table refused during a poll: nothing asked, the next run does
  it; a poll cut off mid-way (the function's time running out; the table's replies cut): the next
  run asks only for what is still pending, and every message ends with one history entry.
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from dlrhub.adapters.http import HttpClient, HttpSettings
from dlrhub.adapters.secrets import AccountDirectory
from dlrhub.domain.times import utc_now
from dlrhub.providers.contract import POLLING
from dlrhub.providers.registry import PROVIDERS
from dlrhub.runtime.clients import ATTEMPTS, CONNECT_TIMEOUT, READ_TIMEOUT
from dlrhub.services.poller import AccountRun, Poller, PollSettings
from dlrhub.table.leases import Coordination
from dlrhub.table.messages import MessageStore
from dlrhub_local.processes import LOOPBACK
from dlrhub_local.simulators import Infin8linxSimulator
from dlrhub_measure import aws
from dlrhub_measure.aws import put_secret, sign_with_dummy_keys
from dlrhub_measure.engines import Engines, local_aws, local_stack
from dlrhub_measure.functions import register_message
from dlrhub_measure.proof.cases import infin8linx_callback
from dlrhub_measure.proof.faultproxy import FaultProxy, Mode
from dlrhub_measure.proof.figures import Figures
from dlrhub_measure.proof.leaks import service_logs
from dlrhub_measure.proof.rawhttp import Connection, NoReply
from dlrhub_measure.proof.stored import get_messages, history
from dlrhub_measure.proof.target import Target
from tests.support import create_table

#: Accounts read for the first time while Secrets Manager is refused, then hung.
COLD_ACCOUNTS = {"refuse": "cold-1", "hang": "cold-2"}


@dataclass(frozen=True)
class Sizes:
    #: (mode, seconds) of the table's proxy while callbacks are sent.
    schedule: tuple[tuple[Mode, float], ...]
    senders: int
    poll_messages: int


FULL = Sizes(
    schedule=(("pass", 3), ("refuse", 5), ("pass", 3), ("hang", 12), ("pass", 3), ("cut", 5), ("pass", 3)),
    senders=20,
    poll_messages=300,
)
SHORT = Sizes(
    schedule=(("pass", 1), ("refuse", 2), ("pass", 1), ("hang", 10), ("pass", 1), ("cut", 2), ("pass", 1)),
    senders=8,
    poll_messages=120,
)


@dataclass
class Rig:
    target: Target
    table_proxy: FaultProxy
    aws_proxy: FaultProxy
    engines: Engines


@contextmanager
def rig(directory: Path, timeout: float = 120.0) -> Iterator[Rig]:
    """DynamoDB Local and moto server behind proxies, and the local stack using them."""
    sign_with_dummy_keys()  # the in-process clients (the poller's)
    with ExitStack() as stack:
        engines = stack.enter_context(local_aws())
        table_proxy = stack.enter_context(FaultProxy((LOOPBACK, engines.dynamodb.port)))
        aws_proxy = stack.enter_context(FaultProxy((LOOPBACK, engines.moto.port)))
        # accounts read for the first time during a Secrets Manager outage
        cold = {f"infin8linx/{name}": {"webhook_secret": uuid.uuid4().hex * 2} for name in COLD_ACCOUNTS.values()}
        args = ("--dynamodb-endpoint", table_proxy.url, "--aws-endpoint", aws_proxy.url)
        running, accounts = stack.enter_context(local_stack(directory, *args, accounts=cold, timeout=timeout))
        target = Target(
            running,
            accounts,
            engines.dynamodb.endpoint,
            other_pids=[engines.dynamodb.process.pid, engines.moto.process.pid],
            internal=[table_proxy.url, aws_proxy.url, engines.moto.endpoint],
        )
        yield Rig(target, table_proxy, aws_proxy, engines)


# -- callbacks through table outages --------------------------------------------------------------


@dataclass
class Attempt:
    message_id: str
    mode: str
    status: int | None
    seconds: float
    started: float = 0.0


@dataclass
class Callbacks:
    """Infin8linx callbacks, one final report per message, and what came back for each."""

    target: Target
    account: str = "demo"
    attempts: list[Attempt] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, message_id: str) -> bytes:
        state = "1" if int(message_id.rsplit("-", 1)[1]) % 3 else "2"
        secret, phone = self.target.secret("infin8linx", self.account), "628555" + message_id[-6:]
        return infin8linx_callback(self.target.host, secret, message_id, phone, state, self.account)

    def send(self, connection: Connection, message_id: str, mode: str | FaultProxy) -> Attempt:
        """``mode``: what the fault was, or the proxy whose faults while the request was out name it."""
        started = time.monotonic()
        try:
            reply = connection.send(self.request(message_id))
            status: int | None = reply.status
            body = reply.text
        except NoReply:
            status, body = None, ""
        ended = time.monotonic()
        if isinstance(mode, FaultProxy):
            mode = next((m for m in mode.modes_between(started, ended) if m != "pass"), "pass")
        attempt = Attempt(message_id, mode, status, ended - started, started)
        problems = self.target.scanner.in_reply(body)
        with self.lock:
            self.attempts.append(attempt)
        if problems:
            raise AssertionError(f"the reply to {message_id} shows {problems}: {body[:200]}")
        return attempt

    def message_ids(self) -> list[str]:
        return sorted({a.message_id for a in self.attempts})

    def count(self, figures: Figures) -> None:
        """Its requests and 5xx into the suite's figures."""
        figures.requests += len(self.attempts)
        figures.server_errors += sum(1 for a in self.attempts if a.status and a.status >= 500)


def callbacks_through_outages(rig: Rig, sizes: Sizes, figures: Figures) -> None:
    callbacks = Callbacks(rig.target)
    send_through(callbacks, rig.table_proxy, sizes)
    first = list(callbacks.attempts)
    judge_outages(rig, first, figures)
    # The providers send again what was not answered 200, until it is (bounded).
    retry = sorted({a.message_id for a in first if a.status != 200})
    with closing(Connection(LOOPBACK, rig.target.port, timeout=60)) as connection:
        for message_id in retry:
            if not any(callbacks.send(connection, message_id, "resend").status == 200 for _ in range(5)):
                figures.fail(f"{message_id}: not taken after the outages")
    callbacks.count(figures)
    figures.times.extend(a.seconds for a in callbacks.attempts if a.status == 200)
    sent = callbacks.message_ids()
    once = exactly_once(rig, sent, figures)
    figures.exactly_once = f"{'yes' if once == len(sent) else 'NO'} ({once:,}/{len(sent):,})"
    figures.notes.append(f"sent again after the outages: {len(retry)} reports")


def send_through(callbacks: Callbacks, proxy: FaultProxy, sizes: Sizes) -> None:
    """Senders send callbacks (a new message each) while the proxy goes through the schedule's modes."""
    stop, numbers = threading.Event(), itertools.count()
    errors: list[BaseException] = []

    def sender() -> None:
        with closing(Connection(LOOPBACK, callbacks.target.port, timeout=60)) as connection:
            try:
                while not stop.is_set():
                    callbacks.send(connection, f"F-{next(numbers):06d}", proxy)
            except BaseException as error:
                errors.append(error)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(sizes.senders)]
    for thread in threads:
        thread.start()
    for mode, seconds in sizes.schedule:
        proxy.mode = mode
        time.sleep(seconds)
    proxy.mode = "pass"
    stop.set()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]


def judge_outages(rig: Rig, first: list[Attempt], figures: Figures) -> None:
    """The callbacks sent during the outages: every one answered 200 stored, every reply 200 or 5xx (and
    some 5xx while the table was refused or hung); the replies per mode."""
    taken = {a.message_id for a in first if a.status == 200}
    not_stored = sorted(taken - set(items_of(rig, sorted({a.message_id for a in first}))))
    for message_id in not_stored[:10]:
        figures.fail(f"{message_id}: answered 200 during the outages, not stored")
    figures.lost = len(not_stored)
    for attempt in first:
        if attempt.status is None or 300 <= attempt.status < 500:
            figures.fail(
                f"{attempt.message_id} during {attempt.mode}: {attempt.status or 'no reply'} (200 or 5xx only)"
            )
    by_mode: dict[str, list[Attempt]] = defaultdict(list)
    for attempt in first:
        by_mode[attempt.mode].append(attempt)
    for mode, attempts in by_mode.items():
        failed = [a.seconds for a in attempts if a.status and a.status >= 500]
        times = f"; 5xx replies in {describe_times(failed)}" if failed else ""
        figures.notes.append(
            f"table {mode}: {len(attempts)} callbacks, {dict(Counter(a.status for a in attempts))}{times}"
        )
    if not any(a.status and a.status >= 500 for a in first if a.mode in ("refuse", "hang")):
        figures.fail("no 5xx while the table was refused or hung: the fault did not reach the stack")


def describe_times(seconds: list[float]) -> str:
    return f"p50 {statistics.median(seconds):.1f} s, max {max(seconds):.1f} s"


def items_of(rig: Rig, message_ids: list[str], account: str = "demo", table: str | None = None) -> dict[str, Any]:
    """Infin8linx message items read at the engine itself (the stack's table unless ``table``)."""
    keys = [("infin8linx", account, message_id) for message_id in message_ids]
    found = get_messages(rig.target.dynamodb, table or rig.target.table, keys)
    return {key[2]: item for key, item in found.items()}


def exactly_once(
    rig: Rig, message_ids: list[str], figures: Figures, account: str = "demo", table: str | None = None
) -> int:
    """How many of the messages are stored with exactly one history entry (each had one report)."""
    stored = items_of(rig, message_ids, account, table)
    once = 0
    for message_id in message_ids:
        entries = history(stored[message_id]) if message_id in stored else []
        if len(entries) == 1:
            once += 1
        else:
            figures.fail(f"{account}/{message_id}: {len(entries)} history entries after the faults (1 expected)")
    return once


# -- Secrets Manager unreachable -------------------------------------------------------------------


def secrets_unreachable(rig: Rig, figures: Figures) -> None:
    """Accounts not read yet: 503 while moto's proxy refuses, then hangs; a cached account: 200. Then,
    Secrets Manager back, each report sent again is taken, once."""
    cached = Callbacks(rig.target)
    cold = {mode: Callbacks(rig.target, account=name) for mode, name in COLD_ACCOUNTS.items()}
    with closing(Connection(LOOPBACK, rig.target.port, timeout=60)) as connection, rig.aws_proxy.switched():
        cached.send(connection, "S-000001", "pass")  # demo: read (and cached) now
        for n, (mode, callbacks) in enumerate(cold.items(), start=2):
            rig.aws_proxy.mode = mode
            attempt = callbacks.send(connection, f"S-{n:06d}", mode)
            figures.notes.append(
                f"Secrets Manager {mode}: an account not read before answered {attempt.status}"
                f" in {attempt.seconds:.1f} s"
            )
            if attempt.status != 503:
                figures.fail(f"Secrets Manager {mode}: {callbacks.account} answered {attempt.status}, 503 expected")
            if (status := cached.send(connection, f"S-1{n:05d}", mode).status) != 200:
                figures.fail(f"Secrets Manager {mode}: the cached account answered {status}, 200 expected")
        rig.aws_proxy.mode = "pass"
        for n, callbacks in enumerate(cold.values(), start=2):
            if (status := callbacks.send(connection, f"S-{n:06d}", "resend").status) != 200:
                figures.fail(f"after Secrets Manager came back, {callbacks.account} answered {status}")
    for callbacks in (cached, *cold.values()):
        exactly_once(rig, callbacks.message_ids(), figures, account=callbacks.account)
        callbacks.count(figures)


# -- the poller -------------------------------------------------------------------------------------


@dataclass
class PollRig:
    """The poller wired as the function wires it, to the engines through the proxies."""

    rig: Rig
    simulator: Infin8linxSimulator
    table: str
    prefix: str = field(default_factory=lambda: f"proof-{uuid.uuid4().hex[:8]}")

    def client(self, service: str, endpoint: str) -> Any:
        retries = {"max_attempts": ATTEMPTS, "mode": "standard"}
        timeouts = {"connect_timeout": CONNECT_TIMEOUT, "read_timeout": READ_TIMEOUT}
        return aws.client(service, endpoint, retries=retries, max_pool_connections=32, **timeouts)

    def account(self) -> str:
        name = f"acct-{uuid.uuid4().hex[:8]}"
        secret = self.simulator.account_secret("spid")
        put_secret(self.rig.engines.moto.endpoint, f"{self.prefix}/infin8linx/{name}", secret)
        return name

    def store(self) -> MessageStore:
        return MessageStore(self.table, client=self.client("dynamodb", self.rig.table_proxy.url))

    def poller(self, remaining: Callable[[], timedelta] = lambda: timedelta(minutes=5), **http: Any) -> Poller:
        store = self.store()
        secrets = SecretsProvider(boto3_client=self.client("secretsmanager", self.rig.aws_proxy.url))
        accounts = AccountDirectory(self.prefix, PROVIDERS, POLLING, max_age=300, secrets=secrets)
        settings = PollSettings(concurrency=2, reserve=timedelta(seconds=1), lease=timedelta(seconds=3))
        client = HttpClient(HttpSettings(**{"connect_timeout": 1.0, "read_timeout": 1.0, "retries": 1, "backoff": 0.01,
                                            **http}))  # fmt: skip
        return Poller(accounts, store, Coordination(self.table, client=store.client), client, settings,
                      remaining=remaining, owner=uuid.uuid4().hex)  # fmt: skip

    def register(self, account: str, count: int, state: int = 1) -> list[str]:
        ids = [f"P{uuid.uuid4().hex[:10]}-{n:04d}" for n in range(count)]
        store = MessageStore(self.table, client=self.client("dynamodb", self.rig.engines.dynamodb.endpoint))
        now = utc_now()
        for message_id in ids:
            register_message(store, "infin8linx", account, message_id, now)
            self.simulator.add(message_id, state)
        return ids

    def statuses(self, account: str, ids: list[str]) -> dict[str, str]:
        found = items_of(self.rig, ids, account, self.table)
        return {message_id: found[message_id]["status"]["S"] if message_id in found else "-" for message_id in ids}

    def asked(self, since: int = 0) -> list[str]:
        return [mid for request in self.simulator.received("/sms/state")[since:]
                for mid in str(request.param("msgid")).split(",")]  # fmt: skip


def run_one(poller: Poller, account: str) -> AccountRun:
    [run] = poller.run([("infin8linx", account)])
    return run


def poller_under_faults(rig: Rig, sizes: Sizes, figures: Figures) -> None:
    """The poller's scenarios; its logs (in this process) are kept and scanned like the stack's."""
    with Infin8linxSimulator({"spid": "spid-password"}) as simulator, service_logs() as lines:
        table = create_table(rig.engines.dynamodb.endpoint, f"proof-poll-{uuid.uuid4().hex[:8]}")
        poll = PollRig(rig, simulator, table)
        rig.target.scanner.add_secrets(["spid-password"])
        poll_secrets_unreachable(poll, figures)
        poll_provider_faults(poll, figures)
        poll_table_refused(poll, figures)
        poll_cut_off(poll, sizes, figures)
    findings, tracebacks = rig.target.scanner.in_logs(lines)
    for finding in findings[:20]:
        figures.fail(f"poller log: {finding}")
    figures.notes.append(f"poller log lines scanned: {len(lines)}, tracebacks: {tracebacks}")


def note_run(figures: Figures, what: str, run: AccountRun) -> None:
    summary = {k: v for k, v in run.summary().items() if v not in (None, 0, False) and k not in ("provider", "account")}
    figures.notes.append(f"poll, {what}: {summary}")


def poll_secrets_unreachable(poll: PollRig, figures: Figures) -> None:
    known, unknown = poll.account(), poll.account()
    poll.register(known, 3)
    unknown_ids = poll.register(unknown, 3)
    poller = poll.poller()
    simulator = poll.simulator
    run_one(poller, known)  # read once: cached for the function's lifetime (max_age)
    with poll.rig.aws_proxy.switched("refuse"):
        before = simulator.requests
        runs = poller.run([("infin8linx", unknown), ("infin8linx", known)])
    note_run(figures, "Secrets Manager refused, account not read before", runs[0])
    if (runs[0].requests, runs[0].stored) != (0, 0) or runs[0].outcome not in ("failed", "skipped"):
        figures.fail(f"poll with Secrets Manager unreachable: {runs[0].summary()}, the account must be skipped")
    if simulator.requests - before != runs[1].requests:
        figures.fail("poll with Secrets Manager unreachable: the skipped account's provider was asked")
    if set(poll.statuses(unknown, unknown_ids).values()) != {"PENDING"}:
        figures.fail("poll with Secrets Manager unreachable: the skipped account's messages changed")
    after = run_one(poll.poller(), unknown)
    if set(poll.statuses(unknown, unknown_ids).values()) != {"DELIVERED"} or after.stored != 3:
        figures.fail(f"poll after Secrets Manager came back: {after.summary()}")


FAULTS: dict[str, Callable[[Infin8linxSimulator], None]] = {
    "HTTP 503": lambda sim: sim.fail_next(2, 503),
    "HTTP 429": lambda sim: sim.throttle_next(2, retry_after=0),
    "timeouts": lambda sim: sim.stall_next(2, seconds=2.0),
    "malformed replies": lambda sim: sim.malform_next(2),
    "code 120 (busy)": lambda sim: sim.code_next(6, 120),  # the client asks again on 120, three times a batch
}


def poll_provider_faults(poll: PollRig, figures: Figures) -> None:
    """Each fault on every attempt of a run: the messages stay pending; the next run stores them."""
    for what, inject in FAULTS.items():
        account = poll.account()
        ids = poll.register(account, 5)
        inject(poll.simulator)
        failed = run_one(poll.poller(), account)
        poll.simulator.clear_faults()
        note_run(figures, f"provider {what}", failed)
        pending = set(poll.statuses(account, ids).values())
        if pending != {"PENDING"} or failed.failures < 1:
            figures.fail(f"poll with provider {what}: {failed.summary()}, statuses {pending}: pending and a failure")
        again = run_one(poll.poller(), account)
        if set(poll.statuses(account, ids).values()) != {"DELIVERED"} or again.stored != 5:
            figures.fail(f"poll after provider {what}: {again.summary()}")


def poll_table_refused(poll: PollRig, figures: Figures) -> None:
    account = poll.account()
    ids = poll.register(account, 5)
    run_one(poll.poller(), poll.account())  # the proxy's connections in use
    before = poll.simulator.requests
    with poll.rig.table_proxy.switched("refuse"):
        refused = run_one(poll.poller(), account)
    note_run(figures, "table refused", refused)
    if refused.failures < 1 or poll.simulator.requests != before:
        figures.fail(f"poll with the table refused: {refused.summary()}: a failure and no provider request expected")
    again = run_one(poll.poller(), account)
    if set(poll.statuses(account, ids).values()) != {"DELIVERED"}:
        figures.fail(f"poll after the table came back: {again.summary()}")


def poll_cut_off(poll: PollRig, sizes: Sizes, figures: Figures) -> None:
    """Cut off by the function's time, then by the table's replies cut mid-run: the next run asks the
    provider only for what is still pending, and every message is stored once."""
    simulator, n = poll.simulator, sizes.poll_messages
    # 1. Time runs out once the first batch is started.
    account = poll.account()
    ids = poll.register(account, n)
    checks = itertools.count()
    start = len(simulator.received("/sms/state"))
    short = run_one(poll.poller(remaining=lambda: timedelta(minutes=5) if next(checks) < 1 else timedelta(0)), account)
    first = poll.asked(start)
    pending = {mid for mid, status in poll.statuses(account, ids).items() if status == "PENDING"}
    middle = len(simulator.received("/sms/state"))
    rest = run_one(poll.poller(), account)
    second = poll.asked(middle)
    note_run(figures, "cut off by time", short)
    note_run(figures, "the run after it", rest)
    if not short.unfinished or set(second) != pending or sorted(first + second) != sorted(ids):
        figures.fail(
            f"poll cut off by time: {short.summary()} then {rest.summary()}: asked again {set(first) & set(second)}"
        )
    # 2. The table's replies cut while the run stores the first answers (the provider answers in 0.5 s).
    account = poll.account()
    ids = poll.register(account, n)
    simulator.latency = 0.5
    start = len(simulator.received("/sms/state"))
    timers = [
        threading.Timer(0.55, lambda: setattr(poll.rig.table_proxy, "mode", "cut")),
        threading.Timer(1.5, lambda: setattr(poll.rig.table_proxy, "mode", "pass")),
    ]
    for timer in timers:
        timer.start()
    try:
        cut = run_one(poll.poller(), account)
    finally:
        for timer in timers:
            timer.cancel()
        poll.rig.table_proxy.mode = "pass"
        simulator.latency = 0
    first = poll.asked(start)
    pending = {mid for mid, status in poll.statuses(account, ids).items() if status == "PENDING"}
    middle = len(simulator.received("/sms/state"))
    after = poll_until_leased(poll, account)
    second = poll.asked(middle)
    note_run(figures, "table replies cut mid-run", cut)
    note_run(figures, "the run after it", after)
    if set(second) - pending:
        figures.fail(f"poll after a cut: asked again for {len(set(second) - pending)} messages already stored")
    statuses = poll.statuses(account, ids)
    if set(statuses.values()) != {"DELIVERED"}:
        figures.fail(f"poll after a cut: not every message stored: {Counter(statuses.values())}")
    once = exactly_once(poll.rig, ids, figures, account=account, table=poll.table)
    figures.notes.append(
        f"poll cut mid-run: {once}/{len(ids)} stored once; the provider asked about {len(first)} ids,"
        f" then {len(second)} (the {len(pending)} still pending)"
    )


def poll_until_leased(poll: PollRig, account: str, tries: int = 10) -> AccountRun:
    """The next run; again while the cut run's lease (3 s) may still hold the account (bounded)."""
    for _ in range(tries):
        run = run_one(poll.poller(), account)
        if run.skipped != "another run holds the account":
            return run
        time.sleep(1.0)
    return run


# -- the suite ----------------------------------------------------------------------------------------


def run(rig_: Rig, sizes: Sizes = SHORT) -> Figures:
    figures = Figures("faults (proxy)")
    mark = rig_.target.begin(figures)
    started = time.monotonic()
    callbacks_through_outages(rig_, sizes, figures)
    secrets_unreachable(rig_, figures)
    figures.seconds = time.monotonic() - started
    poller_under_faults(rig_, sizes, figures)
    parked = [line for line in rig_.target.stack.seen[mark:] if "PARKED" in line]
    figures.notes.append(f"stream batches parked: {len(parked)}; proxies: table {dict(rig_.table_proxy.counts)}")
    rig_.target.end(figures, mark, tracebacks_allowed=True)
    return figures
