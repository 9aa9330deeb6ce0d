"""The provider registry: a provider is added by adding its module and one line here."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from dlrhub.accounts import AccountConfig
from dlrhub.http import HttpClient
from dlrhub.providers.base import WebhookProvider
from dlrhub.providers.huawei import HuaweiClient
from dlrhub.providers.infin8linx import Infin8linx, Infin8linxClient
from dlrhub.providers.innopaas import InnoPaaS, InnoPaaSPuller
from dlrhub.providers.webcom import Webcom, WebcomClient

WEBHOOK_PROVIDERS: dict[str, WebhookProvider] = {
    provider.name: provider for provider in (Infin8linx(), Webcom(), InnoPaaS())
}

#: Every provider a message can be registered for (Huawei SMN is polled only).
KNOWN_PROVIDERS: frozenset[str] = frozenset({*WEBHOOK_PROVIDERS, "huawei"})


def webhook_provider(name: str) -> WebhookProvider | None:
    return WEBHOOK_PROVIDERS.get(name)


class PollMode(StrEnum):
    BY_ID = "by_id"  # asked about pending messages, in batches of ``client.batch_size``
    WINDOW = "window"  # read by time window: ``client.reports(start, end)``
    PULL = "pull"  # pulled until empty: ``client.pull()``


def poll_client(provider: str, account: str, config: AccountConfig, http: HttpClient) -> tuple[PollMode, Any] | None:
    """How the poller asks this account's provider, or None when it cannot be asked."""
    if provider == "infin8linx":
        return PollMode.BY_ID, Infin8linxClient(account, config, http)
    if provider == "webcom":
        return PollMode.BY_ID, WebcomClient(account, config, http)
    if provider == "huawei":
        return PollMode.WINDOW, HuaweiClient(account, config, http)
    if provider == "innopaas" and (config.model_extra or {}).get("pull_url"):  # pull is off unless enabled
        return PollMode.PULL, InnoPaaSPuller(account, config, http)
    return None
