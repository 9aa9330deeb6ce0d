"""Helpers for the poller tests: a Poller wired to moto server over HTTP, registrations, reads."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from botocore.config import Config
from botocore.exceptions import ClientError

from dlrhub.adapters.http import HttpClient, HttpSettings
from dlrhub.adapters.secrets import AccountDirectory
from dlrhub.domain.registration import Registration
from dlrhub.domain.report import StatusReport
from dlrhub.domain.status import Status
from dlrhub.providers.contract import POLLING
from dlrhub.providers.registry import PROVIDERS
from dlrhub.services.poller import AccountRun, Poller, PollSettings
from dlrhub.table.keys import PENDING_INDEX, PENDING_SHARDS, pending_partition
from dlrhub.table.leases import Coordination
from dlrhub.table.messages import ApplyResult, MessageStore
from tests.support import DUMMY_AWS, create_table, put_account_secret, unique_name

#: Short timeouts and backoff: every retry path runs in well under a second.
FAST_HTTP = HttpSettings(connect_timeout=1.0, read_timeout=1.0, retries=2, backoff=0.01, pool_size=16)
#: Small reserve and lease; otherwise the defaults.
FAST = PollSettings(concurrency=4, reserve=timedelta(seconds=1), lease=timedelta(minutes=2))
DESTINATION = "628131565746"


def plenty() -> timedelta:
    """A function's remaining time far above any reserve."""
    return timedelta(minutes=5)


def no_time() -> timedelta:
    return timedelta(0)


@dataclass
class PollHarness:
    """One table and one secrets prefix on moto server; accounts are told apart by name."""

    endpoint: str
    table: str
    prefix: str
    client: Any

    @classmethod
    def create(cls, endpoint: str) -> PollHarness:
        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name=DUMMY_AWS["AWS_REGION"],
            config=Config(max_pool_connections=32),
        )
        return cls(endpoint, create_table(endpoint), unique_name("poll"), client)

    # -- wiring ------------------------------------------------------------------------

    def store(self) -> MessageStore:
        return MessageStore(self.table, client=self.client)

    def coordination(self) -> Coordination:
        return Coordination(self.table, client=self.client)

    def directory(self) -> AccountDirectory:
        secrets = boto3.client("secretsmanager", endpoint_url=self.endpoint, region_name=DUMMY_AWS["AWS_REGION"])
        secrets_provider = SecretsProvider(boto3_client=secrets)
        return AccountDirectory(self.prefix, PROVIDERS, POLLING, max_age=0, secrets=secrets_provider)

    def account(self, provider: str, secret: dict[str, Any]) -> str:
        """A new account of ``provider`` whose secret is ``secret``; its name."""
        name = unique_name("acct")
        put_account_secret(self.endpoint, provider, name, secret, self.prefix)
        return name

    def poller(
        self,
        settings: PollSettings = FAST,
        *,
        remaining: Callable[[], timedelta] = plenty,
        clock: Callable[[], datetime] | None = None,
        store: MessageStore | None = None,
        http: HttpSettings = FAST_HTTP,
        owner: str | None = None,
    ) -> Poller:
        return Poller(
            self.directory(),
            store or self.store(),
            self.coordination(),
            HttpClient(http),
            settings,
            remaining=remaining,
            owner=owner or uuid.uuid4().hex,
            **({"clock": clock} if clock else {}),
        )

    def run(self, provider: str, account: str, **poller: Any) -> AccountRun:
        [run] = self.poller(**poller).run([(provider, account)])
        return run

    # -- data --------------------------------------------------------------------------

    def register(
        self, provider: str, account: str, ids: Iterable[str], submitted_at: datetime | None = None
    ) -> list[str]:
        """Register ``ids`` as the customer API does (MessageStore.register); they are pending."""
        now = datetime.now(UTC)
        ids = list(ids)
        regs = [
            Registration(
                provider=provider,
                account=account,
                message_id=message_id,
                destination=DESTINATION,
                submitted_at=submitted_at or now,
            )
            for message_id in ids
        ]
        store = self.store()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda reg: store.register(reg, now), regs))
        return ids

    def item(self, provider: str, account: str, message_id: str) -> dict[str, Any] | None:
        return self.store().get(provider, account, message_id)

    def statuses(self, provider: str, account: str, ids: Iterable[str]) -> dict[str, str | None]:
        store = self.store()
        with ThreadPoolExecutor(8) as pool:
            items = list(pool.map(lambda mid: store.get(provider, account, mid), ids))
        return {mid: (item or {}).get("status") for mid, item in zip(ids, items, strict=True)}

    def account_statuses(self, provider: str, account: str) -> dict[str, str]:
        """message id -> status of every message of the account, read page by page from the by_account index."""
        store, found, cursor = self.store(), {}, None
        start, end = datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=1)
        for _ in range(100):
            page = store.list_by_account(provider, account, start, end, limit=100, cursor=cursor)
            found |= {item["message_id"]: item["status"] for item in page.items}
            cursor = page.cursor
            if not cursor:
                break
        return found

    def pending_ids(self, provider: str, account: str) -> set[str]:
        """What the sparse pending index holds for the account (read like the poller reads it)."""
        return {message_id for page in self.store().pending(provider, account) for message_id in page}

    def index_items(self, provider: str, account: str) -> int:
        """Count of the account's entries in the pending index, read directly."""
        total = 0
        for shard in range(PENDING_SHARDS):
            reply = self.client.query(
                TableName=self.table,
                IndexName=PENDING_INDEX,
                KeyConditionExpression="pending_pk = :p",
                ExpressionAttributeValues={":p": {"S": pending_partition(provider, account, shard)}},
                Select="COUNT",
            )
            total += reply["Count"]
        return total


class FailingStore(MessageStore):
    """A real store whose ``apply`` raises (as DynamoDB throttling would) from the ``fail_from``-th call on."""

    def __init__(self, table_name: str, *, client: Any, fail_from: int) -> None:
        super().__init__(table_name, client=client)
        self.fail_from = fail_from
        self.calls = 0

    def apply(self, report: StatusReport) -> ApplyResult:
        self.calls += 1
        if self.calls >= self.fail_from:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "simulated"}}, "UpdateItem"
            )
        return super().apply(report)


class ObservedStore(MessageStore):
    """A real store that calls ``observe(report)`` before each apply (e.g. to note what a simulator has seen)."""

    def __init__(self, table_name: str, *, client: Any, observe: Callable[[StatusReport], None]) -> None:
        super().__init__(table_name, client=client)
        self._observe = observe

    def apply(self, report: StatusReport) -> ApplyResult:
        self._observe(report)
        return super().apply(report)


def final(status: str | None) -> bool:
    return status is not None and Status(status).is_final
