"""What every entry point brings in, free of API Gateway and Lambda details: a webhook call and its
reply, a JSON body, an EventBridge event; the one rule for a field given twice; the error that says
what is wrong with an input (:class:`InvalidInput`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, parse_qsl

from dlrhub.domain.report import StatusReport, in_utc_range

#: Largest body a provider callback may carry (API Gateway allows more; nobody needs it).
MAX_BODY = 1024 * 1024
#: Most fields a form body or a query string may carry.
MAX_FIELDS = 200


class InvalidInput(ValueError):
    """The input is malformed; the message says why, safe to show the caller or to log (it
    never quotes a phone number or a credential). A webhook answers 400, the API 400 or 422
    per item, the events function logs it and drops the event."""


class CallbackForbidden(PermissionError):
    """Credentials carried in the call itself do not match the account's."""


def _pairs(text: str, what: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise InvalidInput(f"the {what} has more than {MAX_FIELDS} fields") from None


def fields_of(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """A query's or a form's fields, each read once: one given again with another value is refused
    (which would the hub believe?), the same value again is that value. The one field rule of every
    provider that sends name=value pairs."""
    found: dict[str, str] = {}
    for name, value in pairs:
        if found.setdefault(name, value) != value:
            raise InvalidInput(f"{name[:32]} is given more than once")
    return found


@dataclass(frozen=True)
class WebhookRequest:
    """One call. The body is kept as it came and read only by a provider's parser, so
    nothing in it is looked at before the call is authenticated."""

    method: str
    raw_query: str = ""
    body: str | bytes = ""
    headers: dict[str, str] = field(default_factory=dict)
    #: The full URL the provider called (scheme, host, port if any, path, query), rebuilt from
    #: the API Gateway event: what a URL signature covers (Twilio). "" when not known.
    url: str = ""

    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.raw_query, keep_blank_values=True)

    def header(self, name: str) -> str | None:
        """A header by name, whatever its case (API Gateway v2 gives them lower-cased)."""
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)

    def query_pairs(self) -> list[tuple[str, str]]:
        """The query's (name, value) pairs in order, repeats kept."""
        return _pairs(self.raw_query, "query string")

    def form(self) -> list[tuple[str, str]]:
        """The form-encoded body's (name, value) pairs in order, repeats kept."""
        return _pairs(self.text(), "form body")

    def text(self) -> str:
        if len(self.body) > MAX_BODY:
            raise InvalidInput(f"the body is larger than {MAX_BODY} bytes")
        if isinstance(self.body, str):
            return self.body
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the body is not UTF-8 text") from None

    def json(self) -> Any:
        text = self.text()
        if not text.strip():
            raise InvalidInput("the body is empty; a JSON document is expected")
        return parse_json(text)


#: A ``\\uD800``-``\\uDFFF`` escape: valid JSON text that may parse to a string with a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def parse_json(text: str) -> Any:
    """JSON, or InvalidInput saying why not (nesting too deep, numbers too long and lone surrogates
    included: a string that is not Unicode text cannot be signed, compared or stored)."""
    try:
        document = json.loads(text)
        if _SURROGATE_ESCAPE.search(text):  # rare: only then is the document checked again
            json.dumps(document, ensure_ascii=False).encode()
        return document
    except UnicodeEncodeError:
        raise InvalidInput("the body is not JSON the hub reads: a string holds a lone surrogate") from None
    except json.JSONDecodeError as error:
        raise InvalidInput(f"the body is not JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    except RecursionError:
        raise InvalidInput("the body is not JSON the hub reads: nested too deep") from None
    except ValueError:  # e.g. an integer of more than 4,300 digits
        raise InvalidInput("the body is not JSON the hub reads: a number is too long") from None


def check_range(start: datetime, end: datetime) -> None:
    """``from`` and ``to`` of a query: each with a zone, each a time UTC can hold (stored times are
    UTC text), ``to`` after ``from``; else InvalidInput saying which."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("from and to need a zone, e.g. 2026-11-25T00:00:00Z")
    if not (in_utc_range(start) and in_utc_range(end)):
        raise InvalidInput("from and to must lie in years 1 to 9999 once in UTC")
    if end <= start:
        raise InvalidInput("to must be after from")


def called_url(forwarded_proto: str | None, host: str, raw_path: str, raw_query: str) -> str:
    """The URL a caller used, from what API Gateway passes on: the scheme it was called
    with (``x-forwarded-proto``; https when absent), the domain name (with a port if the
    caller gave one), the path and the query string exactly as sent."""
    scheme = (forwarded_proto or "https").split(",")[0].strip().lower() or "https"
    return f"{scheme}://{host}{raw_path}" + (f"?{raw_query}" if raw_query else "")


def reason_of(error: ValueError) -> str:
    """A short reason for a bad item, from a ValueError or a pydantic ValidationError."""
    errors = getattr(error, "errors", None)
    if not callable(errors):
        return str(error)
    parts = []
    for found in errors()[:5]:
        where = ".".join(str(part) for part in found["loc"])
        message = found["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


@dataclass(frozen=True)
class RejectedItem:
    """One item of a multi-item callback that could not be taken, and why."""

    index: int
    reason: str
    ref: str | None = None


@dataclass(frozen=True)
class ParsedCallback:
    reports: list[StatusReport]
    rejected: list[RejectedItem] = field(default_factory=list)
    #: For each report, the provider's own reference to echo in the acknowledgement.
    refs: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class WebhookReply:
    status_code: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


def parse_items(items: list[Any], parse_one: Callable[[Any], StatusReport], ref_field: str) -> ParsedCallback:
    """Each item of a multi-item callback parsed on its own: bad ones are named, not fatal.

    ``ref_field``: the provider's id field, echoed in acknowledgements and in the reasons.
    """
    reports, refs, rejected = [], [], []
    for index, item in enumerate(items):
        ref = item.get(ref_field) if isinstance(item, dict) else None
        try:
            reports.append(parse_one(item))
            refs.append(ref)
        except ValueError as error:
            rejected.append(RejectedItem(index, reason_of(error), None if ref is None else str(ref)[:64]))
    return ParsedCallback(reports, rejected, refs)


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether ``event`` matches an EventBridge pattern of exact values (lists of allowed
    values, nested objects): the part of the pattern syntax the providers' rules use."""
    if not isinstance(event, Mapping):
        return False
    for key, wanted in pattern.items():
        value = event.get(key)
        if isinstance(wanted, Mapping):
            if not matches(wanted, value):
                return False
        elif isinstance(wanted, list | tuple):
            values = value if isinstance(value, list) else [value]
            if not any(found in wanted for found in values if not isinstance(found, dict | list)):
                return False
        else:
            raise ValueError(f"pattern value of {key!r} must be a list or an object")
    return True
