"""What the local stack prints: one line per event, in words, naming the function that did it.

The functions log as deployed: Powertools' JSON lines. The local stack runs them in its own
process, so it puts :class:`ConsoleStream` where their log handler writes: each JSON line is
read back and told in words (a duplicate report, a refused item, a failed poll), and what a
person watching need not read (a report applied, which the stream's ``stored`` line tells;
the INFO lines unless ``--verbose``) is left out. ``--json-logs`` leaves the handler as
Powertools made it: the raw lines, as CloudWatch would show them.

A line is ``HH:MM:SS  what        details``; :func:`event_line` makes every one of them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from dlrhub_local.feed import Change
from dlrhub_local.redact import mask_phone

#: The key the console's filter adds to each record: the function that logged it.
FUNCTION_KEY = "local_function"
#: Debug lines worth telling: what a report changed when it changed nothing.
TOLD_DEBUG = frozenset({"report ignored"})
ITEM_REJECTED = "callback item rejected"
#: Lines that the gateway's ``refused`` line tells already, with the HTTP status the caller got.
TOLD_BY_GATEWAY = ("callback refused", "callback rejected")
#: Keys of a Powertools line that are its frame, not what happened.
FRAME_KEYS = frozenset(
    f"level location message timestamp service sampling_rate xray_trace_id cold_start function_name {FUNCTION_KEY}"
    " function_memory_size function_arn function_request_id correlation_id exception exception_name stack_trace".split()
)

_current = threading.local()


def stamped(line: str) -> str:
    """``HH:MM:SS  line``: every line the stack prints as it runs begins with the time."""
    return f"{time.strftime('%H:%M:%S')}  {line}"


def event_line(what: str, details: str) -> str:
    """``HH:MM:SS  what        details``: the one shape of a line that tells an event."""
    return stamped(f"{what:<11} {details}")


def counted(number: int, one: str, many: str = "") -> str:
    """``1 request``, ``2 requests`` (``many``: the plural when it is not ``one`` + s)."""
    return f"{number} {one if number == 1 else many or one + 's'}"


@contextmanager
def invoking(function: str) -> Iterator[None]:
    """Lines logged by this thread while the block runs are ``function``'s."""
    before = getattr(_current, "function", None)
    _current.function = function
    try:
        yield
    finally:
        _current.function = before


def shown_path(path: str, params: dict[str, str]) -> str:
    """A route's path with its parameters filled in, but for a secret: ``/webhooks/twilio/demo/…``."""
    for name, value in params.items():
        shown = "…" if name == "secret" else value
        path = path.replace(f"{{{name}+}}", shown).replace(f"{{{name}}}", shown)
    return path


def reason_of(body: bytes, limit: int = 200) -> str:
    """What a refusal's body says: a text body's first line, a JSON body's ``message`` or first ``errors`` item."""
    text = body.decode("utf-8", "replace").strip()
    try:
        found = json.loads(text)
    except ValueError:
        return text.splitlines()[0][:limit] if text else "(no reason given)"
    if not isinstance(found, dict):
        return text[:limit]
    reason = str(found.get("message") or "")
    errors = found.get("errors") or []
    if errors and isinstance(errors[0], dict):
        first = errors[0]
        where = f"item {first['index']}" if "index" in first else str(first.get("where", ""))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        reason = "; ".join(part for part in (reason, f"{where}: {first.get('reason', '')}{more}") if part)
    return (reason or text)[:limit]


def refused_line(function: str, method: str, path: str, status: int, body: bytes) -> str:
    """A request a function answered 4xx (``refused``; a read of nothing: ``not found``) or 5xx (``failed``),
    with the reason it gave."""
    what = "not found" if (status, method) == (404, "GET") else "refused" if status < 500 else "failed"
    return event_line(what, f"{function} {method} {path}: {status} {reason_of(body)}")


def change_line(change: Change, known: Callable[[str], bool], config_path: str) -> str:
    """A stored report, or a registration (with a warning when ``known`` says its account is not in the config)."""
    value = change.value
    account, to = f"{value['provider']}/{value['account']}", mask_phone(value.get("destination"))
    if change.kind == "stored":
        raw = f"(raw {value.get('raw_status')!r}, {value.get('source')})" + (f" to {to}" if to else "")
        return event_line("stored", f"{account} {value['message_id']} -> {value.get('status')} {raw}")
    line = event_line("registered", f"{account} {value['message_id']} to {to}, status {value['status']}")
    if known(account):
        return line
    return (
        f"{line}. WARNING: {account} is not an account of {config_path}: no provider report can reach it"
        " (its callbacks get 403, the poller never asks), so the message stays PENDING; add the account there"
    )


def account_of(log: dict[str, Any]) -> str:
    """``provider/account`` as the line gives them (either may be missing; ``account`` may be both)."""
    provider, account = log.get("provider"), log.get("account")
    if provider and account and "/" not in str(account):
        return f"{provider}/{account}"
    return str(account or provider or "")


def _report(log: dict[str, Any], function: str) -> str:
    """A report that changed nothing: the same status again, or one the stored status outranks."""
    status, stored = log.get("status"), log.get("stored_status")
    raw = f" (raw {log['raw_status']!r}, {function})" if log.get("raw_status") is not None else f" ({function})"
    what = f"{account_of(log)} {log.get('message_id')} {status}{raw}"
    if status == stored:
        return event_line("duplicate", f"{what}: already {stored}, nothing changed")
    return event_line("ignored", f"{what}: the stored {stored} stands (a final status is kept)")


def _generic(log: dict[str, Any], function: str) -> str:
    level = str(log.get("level", "INFO")).lower()
    where = account_of({key: value for key, value in log.items() if value not in (None, "")})
    shown = FRAME_KEYS | {"provider", "account"}
    details = {key: value for key, value in log.items() if key not in shown and value not in (None, "")}
    text = f"{function}: {log.get('message', '')}" + (f" ({where})" if where else "")
    if details:
        text += ": " + ", ".join(f"{key} {value}" for key, value in details.items())
    if log.get("exception_name"):
        text += f" [{log['exception_name']}]"
    return event_line(level if level in ("warning", "error", "critical") else "info", text)


def words(
    log: dict[str, Any], function: str | None = None, *, verbose: bool = False, behind_gateway: bool = True
) -> str | None:
    """One Powertools log line (as a dict) in words; None when there is nothing to tell.

    ``function``: the function's short name (``webhook``), when the line does not carry it;
    ``behind_gateway``: the local gateway tells refusals (with the status), so their lines are left out."""
    name = str(log.get(FUNCTION_KEY) or function or "function")
    message = str(log.get("message", ""))
    level = str(log.get("level", "INFO")).upper()
    if message in TOLD_DEBUG:
        return _report(log, name)
    if behind_gateway and message.startswith(TOLD_BY_GATEWAY):
        return None
    if message == ITEM_REJECTED:  # one item of a call with several: the others are stored
        ref = f" ({log['ref']})" if log.get("ref") not in (None, "") else ""
        return event_line("rejected", f"{name} {account_of(log)} item {log.get('index')}{ref}: {log.get('reason')}")
    if level == "DEBUG" or (level == "INFO" and not verbose):
        return None
    return _generic(log, name)


@dataclass
class ConsoleStream:
    """Where the functions' log handler writes: each JSON line told in words through ``emit``."""

    emit: Callable[[str], None]
    verbose: bool = field(default=False, kw_only=True)

    def write(self, text: str) -> int:
        for raw in text.splitlines():
            if not raw.strip():
                continue
            try:
                log = json.loads(raw)
            except ValueError:
                self.emit(raw)  # not a Powertools line: as it is
                continue
            line = words(log, verbose=self.verbose) if isinstance(log, dict) else raw
            if line:
                self.emit(line)
        return len(text)

    def flush(self) -> None:
        pass


class _Attribute(logging.Filter):
    """Adds the function that logged (the thread's, else the service module's) and drops, before
    they are formatted, the lines the console does not tell (debug; info unless verbose)."""

    def __init__(self, short_names: dict[str, str], verbose: bool) -> None:
        super().__init__()
        self._short = short_names
        self._lowest = logging.INFO if verbose else logging.WARNING

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self._lowest and record.getMessage() not in TOLD_DEBUG:
            return False
        function = getattr(_current, "function", None)
        if function is None:  # a worker thread of a function: its service module tells whose it is
            module = record.name.rsplit(".", 1)[-1]
            function = next((short for short in self._short.values() if short == module), None)
        setattr(record, FUNCTION_KEY, self._short.get(function or "", function or "dlrhub"))
        return True


def attach(service: str, emit: Callable[[str], None], short_names: dict[str, str], *, verbose: bool) -> bool:
    """Tell the functions' log lines in words (the Powertools logger named ``service``, already made
    by the functions' code); False when there is no such logger."""
    handler = getattr(logging.getLogger(service), "powertools_handler", None)
    if not isinstance(handler, logging.StreamHandler):
        return False
    handler.addFilter(_Attribute(short_names, verbose))
    handler.setStream(ConsoleStream(emit, verbose=verbose))  # type: ignore[arg-type]
    return True
