"""The scheduled poll: ask each provider about the messages still pending.

Every answer goes through :meth:`MessageStore.apply`, the path the webhooks use, so the
status rules hold whichever way a report arrives. Per account:

* a lease (:mod:`dlrhub.coordination`) keeps two runs off the same account;
* messages pending longer than ``max_pending_age`` are closed by rule (``no receipt``);
* the account's first polling capability that is on (:data:`POLLING`) says how: asked by
  id in batches read from the sparse pending index, read by time window (with overlap and
  a checkpoint), or pulled until empty (each batch stored before the next is asked for);
  an account with none (push only) is not polled, and that is not a failure;
* whatever one account raises is logged with its name and counted, and the others go on;
* no new request starts once the function's remaining time drops below ``reserve``; the
  next run resumes where the pending index and the checkpoints say.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from dlrhub.accounts import Account, AccountDirectory
from dlrhub.coordination import Coordination
from dlrhub.models import Source, StatusReport
from dlrhub.provider_api import AccountMisconfigured, Http, ProviderError
from dlrhub.providers import provider_named
from dlrhub.providers.descriptor import POLLING, ByIdClient, Capability, Puller, WindowClient
from dlrhub.status import Status
from dlrhub.store import MessageStore, Outcome
from dlrhub.timefmt import iso, utc_now

logger = Logger(child=True)

NO_RECEIPT = "no receipt"
#: After this many failed requests in a row, an account is left for the next run.
MAX_CONSECUTIVE_FAILURES = 3
MAX_PULLS = 1000
#: Polled reports waiting for their write at most; a status query waits for room beyond it.
MAX_QUEUED_WRITES = 5000


@dataclass(frozen=True)
class PollSettings:
    concurrency: int = 8
    #: Status writes in flight at once (a batch's reports are stored in parallel).
    write_concurrency: int = 16
    max_pending_age: timedelta = timedelta(hours=72)
    no_receipt_status: Status = Status.UNKNOWN
    reserve: timedelta = timedelta(seconds=20)
    lease: timedelta = timedelta(minutes=15)
    feed_overlap: timedelta = timedelta(minutes=10)
    feed_lookback: timedelta = timedelta(hours=72)


@dataclass
class AccountRun:
    provider: str
    account: str
    requests: int = 0
    stored: int = 0
    ignored: int = 0
    closed: int = 0
    failures: int = 0
    #: Why the account was not polled (push only, not configured, another run has it).
    skipped: str | None = None
    #: A configuration error (keys present but wrong, or refused by the provider).
    misconfigured: str | None = None
    #: True when the provider itself refused the credentials (code, HTTP 401/403).
    refused: bool = False
    unfinished: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, outcome: Outcome) -> None:
        with self._lock:
            if outcome is Outcome.APPLIED:
                self.stored += 1
            else:
                self.ignored += 1

    @property
    def outcome(self) -> str:
        """One word for the account's run: polled, skipped, misconfigured or failed."""
        if self.misconfigured:
            return "misconfigured"
        if self.failures:
            return "failed"
        return "skipped" if self.skipped else "polled"

    def summary(self) -> dict[str, Any]:
        found = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        return {**found, "outcome": self.outcome}


def parse_accounts(text: str) -> list[tuple[str, str]]:
    """``"infin8linx/main, huawei/cn"`` -> ``[("infin8linx", "main"), ("huawei", "cn")]``."""
    found = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        provider, _, account = entry.partition("/")
        if not provider or not account:
            raise ValueError(f"poll account {entry!r} must look like provider/account")
        found.append((provider, account))
    return found


def _chunks(pages: Iterable[list[str]], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for page in pages:
        for message_id in page:
            batch.append(message_id)
            if len(batch) == size:
                yield batch
                batch = []
    if batch:
        yield batch


class Poller:
    def __init__(
        self,
        accounts: AccountDirectory,
        store: MessageStore,
        coordination: Coordination,
        http: Http,
        settings: PollSettings,
        *,
        remaining: Callable[[], timedelta],
        owner: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._accounts = accounts
        self._store = store
        self._coordination = coordination
        self._http = http
        self._settings = settings
        self._remaining = remaining
        self._owner = owner
        self._clock = clock

    def time_left(self) -> bool:
        return self._remaining() > self._settings.reserve

    def run(self, targets: list[tuple[str, str]]) -> list[AccountRun]:
        runs = [AccountRun(provider, account) for provider, account in targets]
        with (
            ThreadPoolExecutor(self._settings.write_concurrency, thread_name_prefix="write") as writes,
            ThreadPoolExecutor(self._settings.concurrency, thread_name_prefix="batch") as batches,
            ThreadPoolExecutor(max(1, min(len(runs), 8)), thread_name_prefix="account") as accounts,
        ):
            self._writes = writes
            wait([accounts.submit(self._run_account, run, batches) for run in runs])
        for run in runs:
            logger.info("poll finished", **run.summary())
        return runs

    def _run_account(self, run: AccountRun, batches: ThreadPoolExecutor) -> None:
        """One account, isolated: whatever it raises is logged with its name and counted."""
        provider = provider_named(run.provider)
        if provider is None:
            run.misconfigured = "no such provider"
            logger.error("poll account names no known provider", provider=run.provider, account=run.account)
            return
        lease = f"poller#{run.provider}#{run.account}"
        try:
            acquired = self._coordination.acquire(lease, self._owner, self._clock(), self._settings.lease)
            if not acquired:
                run.skipped = "another run holds the account"
                return
            try:
                account = self._accounts.get(run.provider, run.account)
                if account is None and provider.keyless:
                    # Its reports come as events: no secret to read, but the no-receipt rule still applies.
                    account = Account(run.provider, run.account)
                if account is None:
                    run.skipped = "account not configured"
                    return
                self._close_old(run)
                self._poll(run, account, batches)
            finally:
                self._coordination.release(lease, self._owner)
        except AccountMisconfigured as error:
            run.misconfigured, run.refused = str(error), True
            logger.error("account misconfigured; skipped this run", provider=run.provider, account=run.account)
        except Exception:  # raised in a worker thread: it would vanish unless counted here
            run.failures += 1
            logger.exception("poll of account failed", provider=run.provider, account=run.account)

    def _close_old(self, run: AccountRun) -> None:
        """Messages with no final status after ``max_pending_age`` are closed by rule."""
        now = self._clock()
        cutoff = now - self._settings.max_pending_age
        for page in self._store.pending(run.provider, run.account, before=cutoff):
            for message_id in page:
                report = StatusReport(
                    provider=run.provider,
                    account=run.account,
                    message_id=message_id,
                    status=self._settings.no_receipt_status,
                    raw_status=NO_RECEIPT,
                    received_at=now,
                    source=Source.RULE,
                )
                if self._store.apply(report).outcome is Outcome.APPLIED:
                    run.closed += 1

    def _poll(self, run: AccountRun, account: Account, batches: ThreadPoolExecutor) -> None:
        """By the account's first polling capability that is on; none on: push only."""
        provider = provider_named(run.provider)
        assert provider is not None  # checked by _run_account
        for capability in POLLING:
            spec = provider.spec(capability)
            if spec is None:
                continue
            problem = account.problem(capability)
            if problem:
                run.misconfigured = f"{capability.value}: {problem}"
                return
            credentials = account.on(capability)
            if credentials is None:
                continue
            client = spec.client(account.name, credentials, self._http)  # type: ignore[arg-type]
            if capability is Capability.POLL_BY_ID:
                self._poll_by_id(run, client, spec.batch_size, batches)  # type: ignore[union-attr]
            elif capability is Capability.POLL_BY_WINDOW:
                self._poll_window(run, client)
            else:
                self._pull(run, client)
            return
        # Push only: the no-receipt rule was all there was to do.
        run.skipped = "push only: no polling keys"

    def _apply_all(self, run: AccountRun, reports: Iterable[StatusReport]) -> None:
        """Store the news ("no receipt yet" is none) in parallel; the first failure is raised."""
        news = [report for report in reports if report.status is not Status.PENDING]
        for result in self._writes.map(self._store.apply, news):
            run.count(result.outcome)

    def _poll_by_id(self, run: AccountRun, client: ByIdClient, batch_size: int, batches: ThreadPoolExecutor) -> None:
        stop = threading.Event()
        failures_in_row = [0]
        lock = threading.Lock()

        def failed() -> None:
            with lock:
                run.failures += 1
                failures_in_row[0] += 1
                if failures_in_row[0] >= MAX_CONSECUTIVE_FAILURES:
                    stop.set()

        room = threading.BoundedSemaphore(MAX_QUEUED_WRITES)
        writes: list[Future[Any]] = []

        def store_later(reports: list[StatusReport]) -> None:
            """The news go to the write pool; the request slot is free for the next query at once."""
            news = [report for report in reports if report.status is not Status.PENDING]
            told = threading.Event()  # one failure counted per batch, however many of its writes fail

            def written(future: Future[Any]) -> None:
                room.release()
                error = future.exception()
                if error is None:
                    run.count(future.result().outcome)
                elif not told.is_set():
                    told.set()
                    failed()
                    logger.error("storing polled reports failed", provider=run.provider, account=run.account)

            for report in news:
                room.acquire()
                future = self._writes.submit(self._store.apply, report)
                with lock:
                    writes.append(future)
                future.add_done_callback(written)

        def one_batch(ids: list[str]) -> None:
            if stop.is_set():
                return
            try:
                with lock:
                    run.requests += 1
                store_later(client.query(ids))
                failures_in_row[0] = 0
            except AccountMisconfigured as error:
                run.misconfigured, run.refused = str(error), True
                logger.error("account misconfigured; skipped this run", provider=run.provider, account=run.account)
                stop.set()
            except ProviderError as error:
                failed()
                logger.warning("status query failed", provider=run.provider, account=run.account, error=str(error))
            except Exception:  # e.g. the store: the future's exception is never read, so count it here
                failed()
                logger.exception("status batch failed", provider=run.provider, account=run.account)

        in_flight: set[Future[None]] = set()
        limit = 2 * self._settings.concurrency
        for ids in _chunks(self._store.pending(run.provider, run.account), batch_size):
            if stop.is_set() or not self.time_left():
                run.unfinished = True
                break
            if len(in_flight) >= limit:
                _, in_flight = wait(in_flight, return_when="FIRST_COMPLETED")
            in_flight.add(batches.submit(one_batch, ids))
        wait(in_flight)
        wait(list(writes))
        if stop.is_set():
            run.unfinished = True

    def _poll_window(self, run: AccountRun, client: WindowClient) -> None:
        """Read ``[checkpoint - overlap, now]`` page by page; advance the checkpoint when done."""
        name = f"{run.provider}#{run.account}"
        now = self._clock()
        floor = now - self._settings.feed_lookback
        saved = self._coordination.checkpoint(name)
        start = max(datetime.fromisoformat(saved.replace("Z", "+00:00")), floor) if saved else floor
        start -= self._settings.feed_overlap
        if not self.time_left():  # each page is asked for only after this check passed
            run.unfinished = True
            return
        for page in client.reports(start, now):
            run.requests += 1
            self._apply_all(run, page)
            if not self.time_left():
                run.unfinished = True
                return
        # The window is on submit time: never move past a message still without a status,
        # or its report, however late, falls before every later window (lookback bounds it).
        unsettled = client.oldest_unsettled
        self._coordination.save_checkpoint(name, iso(min(now, unsettled) if unsettled else now))

    def _pull(self, run: AccountRun, puller: Puller) -> None:
        """Pull until empty. A batch is stored before the next is asked for; a store
        failure stops the pulling (pulled records are deleted at InnoPaaS)."""
        for _ in range(MAX_PULLS):
            if not self.time_left():
                run.unfinished = True
                return
            run.requests += 1
            batch = puller.pull()
            if not batch:
                return
            self._apply_all(run, batch)
        run.unfinished = True
