"""The scheduled poll: ask each provider about the messages still pending.

Every answer goes through :meth:`MessageStore.apply`, the path the webhooks use, so the
status rules hold whichever way a report arrives. Per account:

* deployed, each account is polled by an invocation of its own (the scheduled one fans out,
  :func:`dispatch`), so one account's backlog or outage never takes another's time;
* a lease (:mod:`dlrhub.table.leases`) keeps two runs off the same account;
* messages pending longer than ``max_pending_age`` are closed by rule (``no receipt``), in
  parallel and in at most ``closing_share`` of the run's time (the rest waits for the next run);
* the account's first polling capability that is on (:data:`POLLING`) says how: asked by
  id in batches read from the sparse pending index from where the last run stopped (a resume
  point per index shard, so every pending message is asked about in turn, however many), read
  by time window (with overlap, a resume point inside the window, and a hold-back for messages
  still without a status that is bounded by ``window_hold_back``), or pulled until empty (each
  batch stored before the next is asked for); an account with none (push only) is not polled,
  and that is not a failure;
* whatever one account raises is logged with its name and counted, and the others go on;
* no new request starts once the function's remaining time drops below ``reserve``; the
  next run resumes where the resume points say.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from aws_lambda_powertools import Logger

from dlrhub.adapters.secrets import Account, AccountDirectory
from dlrhub.domain.report import Source, StatusReport
from dlrhub.domain.status import Status
from dlrhub.domain.times import iso, parse_iso, utc_now
from dlrhub.providers.contract import (
    POLLING,
    AccountMisconfigured,
    ByIdClient,
    Http,
    PollById,
    PollByWindow,
    Provider,
    ProviderError,
    Pull,
    Puller,
    WindowClient,
)
from dlrhub.providers.registry import provider_named
from dlrhub.table.leases import Coordination
from dlrhub.table.messages import MessageStore, Outcome, PendingEntry

logger = Logger(child=True)

NO_RECEIPT = "no receipt"
#: After this many failed requests in a row, an account is left for the next run.
MAX_CONSECUTIVE_FAILURES = 3
MAX_PULLS = 1000
#: Polled reports waiting for their write at most; a status query waits for room beyond it.
MAX_QUEUED_WRITES = 5000
#: Windows one run reads at most (an unfinished one resumed, then the next up to now).
MAX_WINDOWS_PER_RUN = 4
T = TypeVar("T")


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
    #: How far a window's start waits for a message still without a status: past it, the window
    #: moves on (the message is left to the no-receipt rule), so a stuck message cannot stall it.
    window_hold_back: timedelta = timedelta(hours=1)
    #: The most of a run's time that closing messages by rule may take; polling gets the rest.
    closing_share: float = 0.5


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
    #: Polling by id: messages asked about, and whether the run went round the whole pending set.
    asked: int = 0
    cycled: bool = False
    #: Closing by rule stopped for time (the rest is closed by the next runs).
    closing_unfinished: bool = False
    #: Polling by window: seconds from the saved checkpoint to the window's end, and the messages
    #: without a status that the hold-back gave up waiting for.
    window_lag_seconds: float | None = None
    abandoned: int = 0
    #: Reports a held-back window read again that were final before the last read: not written again.
    already_read: int = 0
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


def _chunks(pages: Iterable[list[T]], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
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
                self._poll(run, provider, account, batches)
            finally:
                self._coordination.release(lease, self._owner)
        except AccountMisconfigured as error:
            run.misconfigured, run.refused = str(error), True
            logger.error("account misconfigured; skipped this run", provider=run.provider, account=run.account)
        except Exception:  # raised in a worker thread: it would vanish unless counted here
            run.failures += 1
            logger.exception("poll of account failed", provider=run.provider, account=run.account)

    def _close_old(self, run: AccountRun) -> None:
        """Messages with no final status after ``max_pending_age`` are closed by rule, written in
        parallel, for at most ``closing_share`` of the time left (after an outage there may be
        a day's messages to close: the next runs go on with them)."""
        now = self._clock()
        cutoff = now - self._settings.max_pending_age
        budget = self._remaining() * (1 - self._settings.closing_share)
        pages = self._store.pending(run.provider, run.account, before=cutoff, page_size=500)
        try:
            for page in pages:
                if self._remaining() <= max(budget, self._settings.reserve):
                    run.closing_unfinished = True
                    return
                reports = [
                    StatusReport(
                        provider=run.provider,
                        account=run.account,
                        message_id=message_id,
                        status=self._settings.no_receipt_status,
                        raw_status=NO_RECEIPT,
                        received_at=now,
                        source=Source.RULE,
                    )
                    for message_id in page
                ]
                for result in self._writes.map(self._store.apply, reports):
                    if result.outcome is Outcome.APPLIED:
                        run.closed += 1
        finally:
            pages.close()

    def _poll(self, run: AccountRun, provider: Provider, account: Account, batches: ThreadPoolExecutor) -> None:
        """By the account's first polling capability that is on; none on: push only."""
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
            if isinstance(spec, PollById):
                by_id = spec.client(account.name, credentials, self._http)
                ByIdPoll(self, run, by_id, spec.batch_size, batches).run()
            elif isinstance(spec, PollByWindow):
                self._poll_window(run, spec.client(account.name, credentials, self._http))
            elif isinstance(spec, Pull):
                self._pull(run, spec.client(account.name, credentials, self._http))
            return
        # Push only: the no-receipt rule was all there was to do.
        run.skipped = "push only: no polling keys"

    def _apply_all(self, run: AccountRun, reports: Iterable[StatusReport]) -> None:
        """Store the news ("no receipt yet" is none) in parallel; the first failure is raised."""
        news = [report for report in reports if report.status is not Status.PENDING]
        for result in self._writes.map(self._store.apply, news):
            run.count(result.outcome)

    def _poll_window(self, run: AccountRun, client: WindowClient) -> None:
        """Read windows of submit time, page by page, up to now.

        A window is ``[checkpoint - overlap, now]``. Its position (start, end, next offset) is
        saved after every page, so a run cut short resumes the same window where it stopped, and
        the next window starts once it is done. A window ends by moving the checkpoint to its end,
        held back to the oldest message still without a status (its report, however late, must not
        fall before every later window), but never by more than ``window_hold_back``. What a held-back
        window reads again is written again only if it was delivered after the last window's end
        (less the overlap): at 2 M messages a day, an hour re-read every run would otherwise cost
        each report about 12 write units."""
        name = f"{run.provider}#{run.account}"
        for _ in range(MAX_WINDOWS_PER_RUN):
            saved = self._coordination.cursor(name)
            now = self._clock()
            # every report delivered before this (less the overlap, for the provider's own lag) was
            # read final by an earlier window: a held-back window reads it again and skips the write
            seen = parse_iso(saved["seen"]) - self._settings.feed_overlap if saved.get("seen") else None
            if saved.get("w_end"):  # an unfinished window: go on with it
                start, end = parse_iso(saved["w_start"]), parse_iso(saved["w_end"])
                offset = int(saved.get("w_offset") or 0)
                unsettled = parse_iso(saved["w_unsettled"]) if saved.get("w_unsettled") else None
            else:
                floor = now - self._settings.feed_lookback
                checkpoint = parse_iso(saved["value"]) if saved.get("value") else None
                start = (max(checkpoint, floor) if checkpoint else floor) - self._settings.feed_overlap
                end, offset, unsettled = now, 0, None
            run.window_lag_seconds = (end - start - self._settings.feed_overlap).total_seconds()
            if not self.time_left():  # each page is asked for only after this check passed
                run.unfinished = True
                return
            finished = False
            pages = iter(client.reports(start, end, offset))
            while True:
                page = next(pages, None)
                if page is None:
                    finished = True
                    break
                run.requests += 1
                fresh = [r for r in page if seen is None or r.provider_time is None or r.provider_time >= seen]
                run.already_read += len(page) - len(fresh)
                self._apply_all(run, fresh)
                if client.oldest_unsettled is not None:
                    unsettled = min(unsettled or client.oldest_unsettled, client.oldest_unsettled)
                if not self.time_left():
                    break
                self._save_window(name, saved, start, end, client.next_offset, unsettled)
            if not finished:
                self._save_window(name, saved, start, end, client.next_offset, unsettled)
                run.unfinished = True
                return
            held_to = end - self._settings.window_hold_back
            run.abandoned += sum(1 for moment in client.unsettled if moment < held_to)
            checkpoint = max(min(end, unsettled), held_to) if unsettled else end
            self._coordination.save_cursor(name, {"value": iso(checkpoint), "seen": iso(end)})
            run.window_lag_seconds = (self._clock() - checkpoint).total_seconds()
            if end >= now:  # the window reached this run's now: done until the next run
                return
        run.unfinished = True

    def _save_window(
        self, name: str, saved: dict[str, Any], start: datetime, end: datetime, offset: int, unsettled: datetime | None
    ) -> None:
        fields: dict[str, Any] = {"w_start": iso(start), "w_end": iso(end), "w_offset": offset}
        for kept in ("value", "seen"):
            if saved.get(kept):
                fields[kept] = saved[kept]
        if unsettled is not None:
            fields["w_unsettled"] = iso(unsettled)
        self._coordination.save_cursor(name, fields)

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


class ByIdPoll:
    """One account's poll by id: batches of pending ids read from the resume point, at most
    ``2 x concurrency`` batches queued for the request pool, each answer's news handed to the
    write pool so the request slot is free at once. A run that stops (time, failures) saves where
    it got to per index shard; one that went round the whole pending set starts again at the oldest.
    """

    def __init__(self, poller: Poller, run: AccountRun, client: ByIdClient, batch_size: int, pool: ThreadPoolExecutor):
        self._poller, self._run, self._client = poller, run, client
        self._batch_size, self._pool = batch_size, pool
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._failures_in_row = 0
        self._room = threading.BoundedSemaphore(MAX_QUEUED_WRITES)
        self._writes: list[Future[Any]] = []

    @property
    def cursor_name(self) -> str:
        return f"poll#{self._run.provider}#{self._run.account}"

    def run(self) -> None:
        poller, run = self._poller, self._run
        saved = poller._coordination.cursor(self.cursor_name).get("positions") or {}
        positions = {int(shard): str(key) for shard, key in saved.items()}
        reached = dict(positions)
        # From the resume point to the end of every shard; then, time left, the start of the round.
        pending = functools.partial(poller._store.pending_entries, run.provider, run.account)
        if not positions:
            run.cycled = self._ask_all(pending(), reached)
        elif self._ask_all(pending(after=positions), reached):  # from the resume point to every shard's end
            reached = {}  # then the rest of the round, from the oldest
            run.cycled = self._ask_all(pending(upto=positions), reached)
        wait(list(self._writes))
        run.unfinished = not run.cycled or self._stop.is_set()
        positions = {} if run.cycled else reached
        poller._coordination.save_cursor(self.cursor_name, {"positions": {str(k): v for k, v in positions.items()}})

    def _ask_all(self, entries: Generator[list[PendingEntry]], reached: dict[int, str]) -> bool:
        """Ask about every entry, in batches; False when time or failures stopped it first."""
        poller = self._poller
        in_flight: set[Future[None]] = set()
        try:
            for batch in _chunks(entries, self._batch_size):
                if self._stop.is_set() or not poller.time_left():
                    return False
                if len(in_flight) >= 2 * poller._settings.concurrency:
                    _, in_flight = wait(in_flight, return_when="FIRST_COMPLETED")
                for entry in batch:
                    reached[entry.shard] = entry.sort_key
                in_flight.add(self._pool.submit(self._ask, [entry.message_id for entry in batch]))
            return True
        finally:
            entries.close()
            wait(in_flight)

    def _ask(self, ids: list[str]) -> None:
        """One status request; its failure is counted, three in a row stop the account's run."""
        run = self._run
        if self._stop.is_set():
            return
        try:
            with self._lock:
                run.requests += 1
                run.asked += len(ids)
            self._store_later(self._client.query(ids))
            with self._lock:
                self._failures_in_row = 0
        except AccountMisconfigured as error:
            run.misconfigured, run.refused = str(error), True
            logger.error("account misconfigured; skipped this run", provider=run.provider, account=run.account)
            self._stop.set()
        except ProviderError as error:
            self._failed()
            logger.warning("status query failed", provider=run.provider, account=run.account, error=str(error))
        except Exception:  # e.g. the store: the future's exception is never read, so count it here
            self._failed()
            logger.exception("status batch failed", provider=run.provider, account=run.account)

    def _failed(self) -> None:
        with self._lock:
            self._run.failures += 1
            self._failures_in_row += 1
            if self._failures_in_row >= MAX_CONSECUTIVE_FAILURES:
                self._stop.set()

    def _store_later(self, reports: list[StatusReport]) -> None:
        """The news go to the write pool; one failure is counted per batch, however many of its writes fail."""
        run = self._run
        told = threading.Event()

        def written(future: Future[Any]) -> None:
            self._room.release()
            error = future.exception()
            if error is None:
                run.count(future.result().outcome)
            elif not told.is_set():
                told.set()
                self._failed()
                logger.error("storing polled reports failed", provider=run.provider, account=run.account)

        for report in reports:
            if report.status is Status.PENDING:
                continue
            self._room.acquire()
            future = self._poller._writes.submit(self._poller._store.apply, report)
            with self._lock:
                self._writes.append(future)
            future.add_done_callback(written)


#: The key of the event that asks one invocation to poll one account.
ACCOUNT_KEY = "poll_account"  # not "account": every EventBridge event has one (the AWS account id)


def account_event(provider: str, account: str) -> dict[str, str]:
    return {ACCOUNT_KEY: f"{provider}/{account}"}


def account_of(event: Any) -> str | None:
    """``provider/account`` when the event asks for one account's poll; None for the schedule's."""
    value = event.get(ACCOUNT_KEY) if isinstance(event, dict) else None
    return value if isinstance(value, str) else None


@dataclass
class Dispatched:
    accounts: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"dispatched": self.accounts, "failed": self.failed}


def dispatch(targets: list[tuple[str, str]], invoke: Callable[[dict[str, str]], None]) -> Dispatched:
    """Start one account's poll per target; a refused start is logged and counted, the rest go on."""
    found = Dispatched()
    for provider, account in targets:
        event = account_event(provider, account)
        try:
            invoke(event)
        except Exception:
            logger.exception("could not start an account's poll", provider=provider, account=account)
            found.failed.append(event[ACCOUNT_KEY])
        else:
            found.accounts.append(event[ACCOUNT_KEY])
    return found
