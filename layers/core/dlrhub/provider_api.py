"""What a provider module needs to call its provider: the HTTP client's shape, errors, replies.

Kept apart from :mod:`dlrhub.http` so that provider modules, which every function
imports, never load ``requests``: only the functions that call out (poller, reporter) do.
"""

from __future__ import annotations

from typing import Any, Protocol

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class ProviderError(Exception):
    """A provider call failed. ``retryable``: worth trying again on a later run."""

    def __init__(self, message: str, *, retryable: bool = True, code: str | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


class AccountMisconfigured(ProviderError):
    """The provider refused the account's credentials: skip the account until fixed."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, retryable=False, code=code)


class Reply(Protocol):
    """What a provider module reads of an HTTP response (``requests.Response`` fits)."""

    status_code: int
    text: str

    def json(self) -> Any: ...


class Http(Protocol):
    """The HTTP client a provider's status client is given (:class:`dlrhub.http.HttpClient`)."""

    def request(self, method: str, url: str, *, idempotent: bool = True, **kwargs: Any) -> Reply: ...


def expect_json(response: Reply, what: str) -> object:
    if response.status_code in RETRY_STATUSES:
        raise ProviderError(f"{what}: HTTP {response.status_code}", code=str(response.status_code))
    try:
        return response.json()
    except ValueError:
        raise ProviderError(f"{what}: HTTP {response.status_code}, reply is not JSON") from None
