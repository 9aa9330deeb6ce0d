"""What a provider is to the hub: one declaration per provider module.

A :class:`Provider` names what the provider can do (its capabilities) and, for each,
the pydantic model of the account keys that capability needs. An account's capability
is on when its keys are in the account's secret, off when they are absent, and an error
only when they are present and wrong (see :mod:`dlrhub.adapters.secrets`). Everything else
(the registry, registration, the poller and the reporter, the local stack, the docs)
derives from these declarations: nothing outside a provider module names a provider.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

if TYPE_CHECKING:
    from dlrhub.domain.inputs import ParsedCallback, WebhookReply, WebhookRequest
    from dlrhub.domain.report import StatusReport


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

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


class Http(Protocol):
    """The HTTP client a provider's status client is given (:class:`dlrhub.adapters.http.HttpClient`)."""

    def request(self, method: str, url: str, *, idempotent: bool = True, **kwargs: Any) -> Reply: ...


def expect_json(response: Reply, what: str) -> object:
    if response.status_code in RETRY_STATUSES:
        raise ProviderError(f"{what}: HTTP {response.status_code}", code=str(response.status_code))
    try:
        return response.json()
    except ValueError:
        raise ProviderError(f"{what}: HTTP {response.status_code}, reply is not JSON") from None


class Capability(StrEnum):
    WEBHOOK = "webhook"  # the provider calls the hub
    POLL_BY_ID = "poll_by_id"  # the hub asks about pending messages by id
    POLL_BY_WINDOW = "poll_by_window"  # the hub reads reports by time window
    PULL = "pull"  # the hub pulls queued reports until none are left
    MONITOR = "monitor"  # the hub sends the provider a periodic statistics report
    EVENTS = "events"  # the provider's reports arrive as EventBridge events (no HTTP)


#: The capabilities the poller uses, in the order it prefers them.
POLLING = (Capability.POLL_BY_ID, Capability.POLL_BY_WINDOW, Capability.PULL)


#: A provider API's base URL as the account's secret gives it (no query, no fragment).
BaseUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$", max_length=512)]
#: A credential that must not be empty.
Required = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class Credentials(BaseModel):
    """Base of every capability's account keys. Unknown keys are another capability's."""

    # defer_build: a model is built when first used; a function uses a few of the many declared.
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True, defer_build=True)


def same_text(offered: str, expected: str) -> bool:
    """Constant-time equality of two texts; any text, lone surrogates included, compares (never raises)."""
    return hmac.compare_digest(offered.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


class WebhookCredentials(Credentials):
    """Every webhook capability needs the secret in its callback URL.

    ``webhook_secret_previous`` keeps the old secret valid while a provider moves to the
    new URL (docs/deployment.md, rotating a webhook secret).
    """

    webhook_secret: SecretStr = Field(min_length=16, description="the secret in the callback URL")
    webhook_secret_previous: SecretStr | None = Field(
        default=None, min_length=16, description="also accepted while the provider moves to the new URL"
    )

    def secret_matches(self, offered: str) -> bool:
        """Constant-time comparison with each valid secret (both always compared)."""
        candidates = [self.webhook_secret, self.webhook_secret_previous or self.webhook_secret]
        results = [same_text(offered, candidate.get_secret_value()) for candidate in candidates]
        return any(results)


class ByIdClient(Protocol):
    def query(self, message_ids: Sequence[str]) -> list[StatusReport]:
        """The news about up to ``batch_size`` messages (a "no receipt yet" may be left out)."""
        ...


class WindowClient(Protocol):
    #: During and after :meth:`reports`: the earliest submission still without a status, and the
    #: submissions without one (the checkpoint's floor, and what a bounded hold-back gives up).
    oldest_unsettled: datetime | None
    unsettled: list[datetime]
    #: Where the window's next page starts: a resume point for a run cut short.
    next_offset: int

    def reports(self, start: datetime, end: datetime, offset: int = 0) -> Any:
        """Pages (iterables) of the final reports of messages submitted in ``[start, end]``, from ``offset``."""
        ...


class Puller(Protocol):
    def pull(self) -> list[StatusReport]:
        """One batch of queued reports (deleted at the provider); empty when none are left."""
        ...


class MonitorClient(Protocol):
    def send_monitor(self, start: int, end: int, total: int, success: int) -> None:
        """One window's counts (Unix seconds); raises ProviderError unless the provider took it."""
        ...


ParseCallback = Callable[["WebhookRequest", str, Any, datetime], "ParsedCallback"]
Acknowledge = Callable[["ParsedCallback", Sequence[bool]], "WebhookReply"]
#: ``parse(event, account, received_at)``: one EventBridge event as a report; raises InvalidInput.
ParseEvent = Callable[[Mapping[str, Any], str, datetime], "StatusReport"]


@dataclass(frozen=True)
class Webhook:
    credentials: type[WebhookCredentials]
    methods: frozenset[str]
    #: ``parse(request, account, credentials, received_at)``: raises InvalidInput (400) or CallbackForbidden (403).
    parse: ParseCallback
    #: ``acknowledge(parsed, stored)``: the reply once applied; ``stored[i]`` False where report i failed.
    acknowledge: Acknowledge
    #: True when the acknowledgement names each stored item, so one item that could not be
    #: stored is left out (and sent again) rather than failing the whole call.
    acknowledges_items: bool = False
    #: For the docs: what the provider sends, and what the hub answers.
    sends: str = ""
    answers: str = ""
    #: Whether the provider sends a callback again that the hub did not take (a 5xx, a 429 of API
    #: Gateway's throttling): True, False (what is refused is lost, unless a poll finds it), or None
    #: when its documentation does not say.
    resends_refused: bool | None = None


@dataclass(frozen=True)
class PollById:
    credentials: type[Credentials]
    batch_size: int
    client: Callable[[str, Any, Http], ByIdClient]


@dataclass(frozen=True)
class PollByWindow:
    credentials: type[Credentials]
    client: Callable[[str, Any, Http], WindowClient]


@dataclass(frozen=True)
class Pull:
    credentials: type[Credentials]
    client: Callable[[str, Any, Http], Puller]


@dataclass(frozen=True)
class MonitorReport:
    credentials: type[Credentials]
    client: Callable[[str, Any, Http], MonitorClient]


@dataclass(frozen=True)
class Events:
    """Reports that arrive as EventBridge events on the default bus: no HTTP, no account secret.

    The events carry no account of the hub's: the deployment names it (template parameter
    ``EventsAccount``). ``pattern`` is the rule's event pattern; template.yaml carries the
    same (a test checks), and the events function picks the provider whose pattern matches.
    """

    pattern: Mapping[str, Any]
    parse: ParseEvent
    #: For the docs: what arrives, and what happens to a bad event.
    sends: str = ""
    answers: str = ""
    #: No account keys: the capability is on wherever the template routes the events.
    credentials: None = None


Spec = Webhook | PollById | PollByWindow | Pull | MonitorReport | Events
#: A capability switched on by account keys.
KeyedSpec = Webhook | PollById | PollByWindow | Pull | MonitorReport


@dataclass(frozen=True)
class Provider:
    """One provider: its name, what it can do, what each capability needs."""

    name: str
    title: str
    summary: str
    webhook: Webhook | None = None
    poll_by_id: PollById | None = None
    poll_by_window: PollByWindow | None = None
    pull: Pull | None = None
    monitor: MonitorReport | None = None
    events: Events | None = None
    #: The provider's message ids, where narrower than the hub's (registration refuses others).
    message_id: re.Pattern[str] | None = None
    message_id_words: str = ""
    #: Where the provider's words and choices are written up (docs/providers.md anchor).
    docs: str = ""

    def capabilities(self) -> dict[Capability, Spec]:
        specs = {cap: getattr(self, cap.value) for cap in Capability}
        return {cap: spec for cap, spec in specs.items() if spec is not None}

    def spec(self, capability: Capability) -> Spec | None:
        found: Spec | None = getattr(self, capability.value)
        return found

    def keyed(self) -> dict[Capability, KeyedSpec]:
        """The capabilities configured by account keys (all but event-bus input)."""
        return {cap: spec for cap, spec in self.capabilities().items() if not isinstance(spec, Events)}

    @property
    def keyless(self) -> bool:
        """True when no capability needs an account secret (reports come as events only)."""
        return not self.keyed()

    def own_keys(self) -> dict[Capability, frozenset[str]]:
        """Per capability, the keys that switch it on: its model's keys that no other
        capability's model of this provider also has (``webhook_secret`` switches on the
        webhook; ``base_url`` polling, even when both share ``utc_offset``)."""
        models = {cap: spec.credentials for cap, spec in self.keyed().items()}
        found = {}
        for cap, model in models.items():
            others = {key for other in set(models.values()) - {model} for key in other.model_fields}
            found[cap] = frozenset(model.model_fields) - others
        return found
