"""The provider registry: a provider is added by adding its module and one line here.

Every other part of the hub (registration, the webhook route, the poller, the monitor
reporter, the local stack, the docs) reads the providers from :data:`PROVIDERS`.
"""

from __future__ import annotations

from dlrhub.providers import awseum, huawei, infin8linx, innopaas, twilio, vonage, webcom
from dlrhub.providers.contract import Provider

PROVIDERS: tuple[Provider, ...] = (
    infin8linx.PROVIDER,
    huawei.PROVIDER,
    webcom.PROVIDER,
    innopaas.PROVIDER,
    twilio.PROVIDER,
    vonage.PROVIDER,
    awseum.PROVIDER,
)

BY_NAME: dict[str, Provider] = {provider.name: provider for provider in PROVIDERS}


def provider_named(name: str) -> Provider | None:
    return BY_NAME.get(name)
