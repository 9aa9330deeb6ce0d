"""The monitor report a provider asks for: per completed window, ``total`` and ``success``.

Sent for the listed accounts whose provider has the monitor capability and whose keys
for it are configured (Infin8linx's ``/sms/monitor``); one account's failure
never stops another's. Windows are aligned to the epoch and sent in order once ``lag`` has passed after their
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

from dlrhub.adapters.secrets import AccountDirectory
from dlrhub.domain.stats import align, parse_time, summarize
from dlrhub.domain.times import iso, utc_now
from dlrhub.providers.contract import AccountMisconfigured, Capability, Http, MonitorClient, ProviderError
from dlrhub.providers.registry import provider_named
from dlrhub.table.counters import StatsStore
from dlrhub.table.leases import Coordination

logger = Logger(child=True)


@dataclass(frozen=True)
class MonitorSettings:
    window: timedelta = timedelta(hours=1)
    lag: timedelta = timedelta(hours=1)
    catch_up: timedelta = timedelta(days=7)
    lease: timedelta = timedelta(minutes=10)


@dataclass
class MonitorRun:
    provider: str
    account: str
    sent: list[tuple[int, int, int, int]] = field(default_factory=list)  # start, end, total, success
    failed: str | None = None
    skipped: str | None = None
    misconfigured: str | None = None

    @property
    def outcome(self) -> str:
        if self.misconfigured:
            return "misconfigured"
        if self.failed:
            return "failed"
        return "skipped" if self.skipped else "reported"

    def summary(self) -> dict[str, object]:
        return {**self.__dict__, "outcome": self.outcome}


def monitored(targets: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The listed accounts whose provider takes a monitor report."""
    return [(name, account) for name, account in targets if (p := provider_named(name)) and p.monitor]


class MonitorReporter:
    def __init__(
        self,
        accounts: AccountDirectory,
        stats: StatsStore,
        coordination: Coordination,
        http: Http,
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

    def run(self, targets: list[tuple[str, str]]) -> list[MonitorRun]:
        """Each ``(provider, account)`` on its own; ones without the monitor capability are left out."""
        return [self._run_account(provider, account) for provider, account in monitored(targets)]

    def _run_account(self, provider: str, account: str) -> MonitorRun:
        """One account, isolated: whatever it raises is logged with its name and counted."""
        run = MonitorRun(provider, account)
        try:
            self._report(run)
        except AccountMisconfigured as error:
            run.misconfigured = str(error)
            logger.error("account misconfigured; not reported", provider=provider, account=account)
        except Exception as error:
            run.failed = f"{type(error).__name__}"
            logger.exception("monitor report of account failed", provider=provider, account=account)
        return run

    def _report(self, run: MonitorRun) -> None:
        name = f"monitor#{run.provider}#{run.account}"
        if not self._coordination.acquire(name, self._owner, self._clock(), self._settings.lease):
            run.skipped = "another run holds the account"
            return
        try:
            client = self._client(run)
            if client is not None:
                self._send_due(run, client, name)
        finally:
            self._coordination.release(name, self._owner)

    def _client(self, run: MonitorRun) -> MonitorClient | None:
        provider = provider_named(run.provider)
        account = self._accounts.get(run.provider, run.account)
        if account is None or provider is None or provider.monitor is None:
            run.skipped = "account not configured"
            return None
        problem = account.problem(Capability.MONITOR)
        if problem:
            run.misconfigured = f"monitor: {problem}"
            return None
        credentials = account.on(Capability.MONITOR)
        if credentials is None:
            run.skipped = "no monitor report keys"
            return None
        return provider.monitor.client(account.name, credentials, self._http)

    def _send_due(self, run: MonitorRun, client: MonitorClient, name: str) -> None:
        start, end = self.due_windows(self._coordination.checkpoint(name), self._clock())
        if start >= end:
            return
        buckets = self._stats.buckets(run.provider, run.account, start, end)
        for stats, _ in summarize(buckets, start, end, self._settings.window):
            window = (int(stats.start.timestamp()), int(stats.end.timestamp()))
            try:
                client.send_monitor(*window, total=stats.submitted, success=stats.delivered)
            except AccountMisconfigured:
                raise
            except ProviderError as error:
                run.failed = f"window {iso(stats.start)}: {error}"
                logger.error("monitor report failed; retried next run", account=run.account, error=str(error))
                return
            self._coordination.save_checkpoint(name, iso(stats.end))
            run.sent.append((*window, stats.submitted, stats.delivered))
            logger.info(
                "monitor report sent",
                provider=run.provider,
                account=run.account,
                start=window[0],
                end=window[1],
                total=stats.submitted,
                success=stats.delivered,
            )
