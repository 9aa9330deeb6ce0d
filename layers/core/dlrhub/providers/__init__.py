"""The provider registry: a provider is added by adding its module and one line here."""

from __future__ import annotations

from dlrhub.providers.base import WebhookProvider
from dlrhub.providers.infin8linx import Infin8linx

WEBHOOK_PROVIDERS: dict[str, WebhookProvider] = {provider.name: provider for provider in (Infin8linx(),)}


def webhook_provider(name: str) -> WebhookProvider | None:
    return WEBHOOK_PROVIDERS.get(name)
