"""The provider registry: a provider is added by adding its module and one line here."""

from __future__ import annotations

from dlrhub.providers.base import WebhookProvider
from dlrhub.providers.infin8linx import Infin8linx
from dlrhub.providers.innopaas import InnoPaaS
from dlrhub.providers.webcom import Webcom

WEBHOOK_PROVIDERS: dict[str, WebhookProvider] = {
    provider.name: provider for provider in (Infin8linx(), Webcom(), InnoPaaS())
}

#: Every provider a message can be registered for (Huawei SMN is polled only).
KNOWN_PROVIDERS: frozenset[str] = frozenset({*WEBHOOK_PROVIDERS, "huawei"})


def webhook_provider(name: str) -> WebhookProvider | None:
    return WEBHOOK_PROVIDERS.get(name)
