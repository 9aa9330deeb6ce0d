"""The HTTP client every provider module uses: timeouts always, retries where safe.

Retries (with exponential backoff, honouring ``Retry-After``) cover connection errors,
timeouts, 429 and 5xx, for GET and for the POSTs a provider module marks idempotent (a
status query). A POST that changes state at the provider (InnoPaaS pull deletes what it
returns) is never retried after the request was sent.
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from dlrhub.providers.contract import RETRY_STATUSES, ProviderError

#: Longest wait a provider's ``Retry-After`` gets: a scheduled function has minutes, not hours.
MAX_RETRY_AFTER = 5.0


class BoundedRetry(Retry):
    """urllib3's Retry, with ``Retry-After`` honoured up to MAX_RETRY_AFTER seconds."""

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        wait = super().get_retry_after(response)
        return None if wait is None else min(wait, MAX_RETRY_AFTER)


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.3
    pool_size: int = 32

    @property
    def worst_case_seconds(self) -> float:
        """An upper bound of one request's time: every attempt timing out, the backoff sleeps,
        and each wait a ``Retry-After`` can ask for (capped at MAX_RETRY_AFTER)."""
        attempts = self.retries + 1
        backoff = sum(min(self.backoff * 2**attempt, 120.0) for attempt in range(1, attempts))
        return float(attempts * (self.connect_timeout + self.read_timeout) + backoff + self.retries * MAX_RETRY_AFTER)


def _session(settings: HttpSettings, methods: frozenset[str]) -> requests.Session:
    # No methods: only connection errors (nothing sent) are retried. Not by allowed_methods
    # alone: urllib3 reads an empty collection as "any method" and would retry a 5xx or 429.
    retry = BoundedRetry(
        total=settings.retries,
        connect=settings.retries,
        read=settings.retries if methods else 0,
        status=settings.retries if methods else 0,
        other=0,
        backoff_factor=settings.backoff,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=methods or None,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=settings.pool_size)
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    # The environment's proxy settings read once, not on every request (requests does that per
    # request otherwise: a few milliseconds of CPU each, the poller's bottleneck at 100 a run).
    session.proxies = urllib.request.getproxies()
    session.trust_env = False
    return session


class HttpClient:
    """Thread-safe enough for our use: one pooled session per retry policy."""

    def __init__(self, settings: HttpSettings | None = None) -> None:
        self.settings = settings or HttpSettings()
        self._safe = _session(self.settings, frozenset({"GET", "POST"}))
        self._once = _session(self.settings, frozenset())
        self.requests_made = 0

    def request(self, method: str, url: str, *, idempotent: bool = True, **kwargs: Any) -> requests.Response:
        session = self._safe if idempotent else self._once
        self.requests_made += 1
        try:
            return session.request(
                method, url, timeout=(self.settings.connect_timeout, self.settings.read_timeout), **kwargs
            )
        except requests.RequestException as error:
            raise ProviderError(f"{method} {_host(url)} failed: {type(error).__name__}") from None


def _host(url: str) -> str:
    """Only scheme and host of a URL go into messages: query strings carry credentials."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
