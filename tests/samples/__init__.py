"""The sample events of each provider (one module each, named like the provider's) and the account
keys they need: test data, kept out of the Lambda layer."""

from __future__ import annotations

import importlib
from typing import Any

from dlrhub.providers.registry import PROVIDERS
from tests.samples.sample import Sample

_MODULES = {provider.name: importlib.import_module(f"tests.samples.{provider.name}") for provider in PROVIDERS}
#: provider name -> its samples
SAMPLES_OF: dict[str, tuple[Sample, ...]] = {name: module.SAMPLES for name, module in _MODULES.items()}
#: provider name -> the account keys its samples need besides the webhook secret
KEYS_OF: dict[str, dict[str, Any]] = {name: module.KEYS for name, module in _MODULES.items()}

__all__ = ["KEYS_OF", "SAMPLES_OF", "Sample"]
