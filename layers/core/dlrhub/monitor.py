"""Infin8linx's monitor report: per completed window, ``total`` and ``success`` (seed 000).

Windows are aligned to the epoch and sent in order once ``lag`` has passed after their
end, so late receipts count. A window is recorded as sent (the account's checkpoint
moves past it) only after the provider answers code 0; a failure stops the account's
catch-up until the next run, which resumes at the first unsent window, at most
``catch_up`` back. A lease keeps two runs from sending for the same account at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger

from dlrhub.accounts import AccountDirectory
from dlrhub.coordination import Coordination
from dlrhub.http import HttpClient, ProviderError
from dlrhub.providers.infin8linx import NAME, Infin8linxClient
from dlrhub.stats import align, parse_time, summarize
from dlrhub.stats_store import StatsStore
from dlrhub.timefmt import iso, utc_now

logger = Logger(child=True)


@dataclass(frozen=True)
class MonitorSettings:
    window: timedelta = timedelta(hours=1)
    lag: timedelta = timedelta(hours=1)
    catch_up: timedelta = timedelta(days=7)
    lease: timedelta = timedelta(minutes=10)


@dataclass
class MonitorRun:
    account: str
    sent: list[tuple[int, int, int, int]] = field(default_factory=list)  # start, end, total, success
    failed: str | None = None
    skipped: str | None = None


class MonitorReporter:
    def __init__(
        self,
        accounts: AccountDirectory,
        stats: StatsStore,
        coordination: Coordination,
        http: HttpClient,
        settings: MonitorSettings,
        *,
        owner: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._accounts = accounts
        self._stats = stats
        self._coordination = coordination
        self._http = http
        self._settings = settings
        self._owner = owner
        self._clock = clock

    def due_windows(self, checkpoint: str | None, now: datetime) -> tuple[datetime, datetime]:
        """``[first, last_end)``: the completed windows not yet sent, oldest first."""
        window = self._settings.window
        last_end = align(now - self._settings.lag, window)
        floor = align(now - self._settings.catch_up, window)
        first = parse_time(checkpoint) if checkpoint else last_end - window
        return max(first, floor), last_end

    def run(self, accounts: list[str]) -> list[MonitorRun]:
        return [self._run_account(account) for account in accounts]

    def _run_account(self, account: str) -> MonitorRun:
        run = MonitorRun(account)
        lease = f"monitor#{NAME}#{account}"
        if not self._coordination.acquire(lease, self._owner, self._clock(), self._settings.lease):
            run.skipped = "another run holds the account"
            return run
        try:
            config = self._accounts.get(NAME, account)
            if config is None:
                run.skipped = "account not configured"
                return run
            client = Infin8linxClient(account, config, self._http)
            name = f"monitor#{NAME}#{account}"
            start, end = self.due_windows(self._coordination.checkpoint(name), self._clock())
            if start >= end:
                return run
            buckets = self._stats.buckets(NAME, account, start, end)
            for stats, _ in summarize(buckets, start, end, self._settings.window):
                window = (int(stats.start.timestamp()), int(stats.end.timestamp()))
                try:
                    client.send_monitor(*window, total=stats.submitted, success=stats.delivered)
                except ProviderError as error:
                    run.failed = f"window {iso(stats.start)}: {error}"
                    logger.error("monitor report failed; retried next run", account=account, error=str(error))
                    break
                self._coordination.save_checkpoint(name, iso(stats.end))
                run.sent.append((*window, stats.submitted, stats.delivered))
                logger.info(
                    "monitor report sent",
                    account=account,
                    start=window[0],
                    end=window[1],
                    total=stats.submitted,
                    success=stats.delivered,
                )
        finally:
            self._coordination.release(lease, self._owner)
        return run
