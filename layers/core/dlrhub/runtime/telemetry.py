"""Metrics counted per provider: each is emitted twice, by provider and in total.

The total (dimension ``service`` only) is what alarms watch; the per-provider one
(``service`` and ``provider``) is what dashboards and runbooks drill into. See
docs/operations.md for the metric contract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from dlrhub.runtime.settings import powertools


def count(metrics: Metrics, name: str, provider: str, value: float = 1) -> None:
    """Add ``value`` to ``name`` in total (flushed with the invocation) and for ``provider`` (now)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    if not powertools().metrics_on:
        return  # single_metric prints even then
    dimensions = {**metrics.default_dimensions, "provider": provider}
    with single_metric(name, MetricUnit.Count, value, namespace=metrics.namespace, default_dimensions=dimensions):
        pass


def misconfigured_counter(metrics: Metrics) -> Callable[[Any, Any, str], None]:
    """The accounts directory's ``on_problem`` hook: ``MisconfiguredAccounts`` for the account's provider."""

    def told(account: Any, capability: Any, problem: str) -> None:
        count(metrics, "MisconfiguredAccounts", account.provider)

    return told


#: What a 503 was for, as a metric dimension (a short fixed list: each value is a billed series).
CAUSES = ("throttled", "denied", "unreachable", "secrets", "misconfigured", "out_of_time", "other")
_THROTTLED = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionConflictException",
    "LimitExceededException",
}
_DENIED = {"AccessDeniedException", "UnrecognizedClientException", "KMSAccessDeniedException", "AccessDenied"}


def cause_of(error: BaseException) -> str:
    """The :data:`CAUSES` word for an error that made a function answer 503."""
    response = getattr(error, "response", None)
    code = (response or {}).get("Error", {}).get("Code") if isinstance(response, dict) else None
    if code in _THROTTLED:
        return "throttled"
    if code in _DENIED:
        return "denied"
    if code is None and type(error).__name__ in {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
    }:
        return "unreachable"
    return "other"


def unavailable(metrics: Metrics, cause: str) -> None:
    """``Unavailable`` (by {service} and by {service, cause}): a request answered 503, so that the
    alarm on its rate can fire although Lambda counts no error (the function answered)."""
    metrics.add_metric(name="Unavailable", unit=MetricUnit.Count, value=1)
    if not powertools().metrics_on:
        return
    dimensions = {**metrics.default_dimensions, "cause": cause if cause in CAUSES else "other"}
    with single_metric("Unavailable", MetricUnit.Count, 1, namespace=metrics.namespace, default_dimensions=dimensions):
        pass
