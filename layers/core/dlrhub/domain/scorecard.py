"""The provider scorecard: per provider x account x destination country x hour of submission
(docs/statistics.md, "Provider scorecard"). Pure: what one message contributes, what a change of
it adds, how changes are gathered in a stream window, and how summed figures read.

A registered message contributes, to the row of its provider, account, country and the hour it
was submitted in: ``sub`` 1; one outcome (``dlv`` DELIVERED/READ, ``fail`` FAILED/REJECTED/EXPIRED,
``unk`` UNKNOWN, ``sent`` SENT, none while pending); for a failure its status (``st:FAILED``) and
raw word (``w:UNDELIV``); for a delivery or a failure the histogram bucket of the seconds from
submission to its first final receipt (``l:60``: at most 60 s; ``l:+``: beyond the last bound); and
the cost the provider reported, per currency (``c:EUR`` the amount, ``cd:EUR`` 1 when delivered).

The stream function adds, for each change of a message, what the new item contributes less what
the old one did: summed over a message's changes that is what its last state contributes, which
is what the recount adds up from the items themselves. A message whose country changes (a report
names another than the number's) moves with all it counted.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from dlrhub.domain.countries import COUNTRY, UNKNOWN
from dlrhub.domain.status import Status

HOUR = timedelta(hours=1)
#: Upper bounds (seconds) of the latency histogram, log-spaced from 1 s to 72 h (about x2 a step);
#: one more bucket (``l:+``) holds the rest.
LATENCY_BOUNDS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 259200)
BEYOND = "+"
#: Statuses counted as ``fail`` (UNKNOWN is ``unk``: no receipt said either way).
FAILURES = (Status.FAILED, Status.REJECTED, Status.EXPIRED)
#: Raw words are kept up to this length (a provider's word is at most 64 characters).
WORD_LENGTH = 32
#: Distinct raw words one write adds to one row, the most frequent first; the rest are added as
#: ``w:~other``. An item grows by at most this many attributes (+1) per write: no item nears 400 KB.
WORDS_PER_WRITE = 10
OTHER_WORDS = "~other"
#: Rows one write touches: a transaction holds 100 items, one of them the checkpoint.
MAX_ROWS = 99
#: Currency of a cost the provider gave without one (ISO 4217's code for "no currency").
NO_CURRENCY = "XXX"

Figures = dict[str, Decimal]


@dataclass(frozen=True, order=True)
class RowKey:
    """A scorecard row of one hour: provider, account, destination country, hour of submission."""

    provider: str
    account: str
    country: str
    hour: str  # "2026-11-25T10:00:00Z"

    def text(self) -> str:
        return "#".join((self.provider, self.account, self.country, self.hour))

    @classmethod
    def of_text(cls, text: str) -> RowKey:
        provider, account, country, hour = text.split("#")
        return cls(provider, account, country, hour)


def hour_name(moment: datetime) -> str:
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def country_of(item: Mapping[str, Any]) -> str:
    country = item.get("country")
    return country if isinstance(country, str) and COUNTRY.match(country) else UNKNOWN


def outcome_of(status: Status | None) -> str | None:
    """The outcome field of a status: ``dlv``, ``fail``, ``unk``, ``sent``, or None (pending)."""
    if status is None or status is Status.PENDING:
        return None
    if status.is_success:
        return "dlv"
    if status is Status.UNKNOWN:
        return "unk"
    if status is Status.SENT:
        return "sent"
    return "fail"


def latency_field(seconds: float) -> str:
    index = bisect.bisect_left(LATENCY_BOUNDS, max(0.0, seconds))
    return f"l:{LATENCY_BOUNDS[index]}" if index < len(LATENCY_BOUNDS) else f"l:{BEYOND}"


def failure_word(raw: Any) -> str:
    text = "".join(ch for ch in str(raw or "") if ch.isprintable()).strip()[:WORD_LENGTH]
    return text or "?"


def first_final_received(history: Iterable[Mapping[str, Any]]) -> str | None:
    """When the hub received the message's first final status (history entries as the reader names them)."""
    for entry in history:
        status = entry.get("status")
        if status and Status(status).is_final:
            return entry.get("received_at") or entry.get("event_time")
    return None


def _amount(cost: Any) -> tuple[str, Decimal] | None:
    if not isinstance(cost, Mapping) or cost.get("amount") is None:
        return None
    try:
        amount = Decimal(str(cost["amount"]))
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    currency = cost.get("currency")
    return (str(currency) if currency else NO_CURRENCY), amount


def contribution(item: Mapping[str, Any]) -> tuple[RowKey, Figures] | None:
    """What a message item counts in the scorecard, or None (not a registered message). ``item`` as
    the table's reader gives it: identity (``provider``, ``account``) and history entries named."""
    if not item.get("registered_at") or not item.get("submitted_at") or "provider" not in item:
        return None
    submitted = parse_time(item["submitted_at"])
    key = RowKey(item["provider"], item["account"], country_of(item), hour_name(submitted))
    figures: Figures = {"sub": Decimal(1)}
    status = Status(item["status"]) if item.get("status") else None
    outcome = outcome_of(status)
    if outcome is not None:
        figures[outcome] = Decimal(1)
    if outcome == "fail":
        figures[f"st:{status}"] = Decimal(1)
        figures[f"w:{failure_word(item.get('raw_status'))}"] = Decimal(1)
    if outcome in ("dlv", "fail"):
        received = first_final_received(item.get("history") or [])
        if received:
            figures[latency_field((parse_time(received) - submitted).total_seconds())] = Decimal(1)
    cost = _amount(item.get("cost"))
    if cost is not None:
        currency, amount = cost
        figures[f"c:{currency}"] = amount
        if outcome == "dlv":
            figures[f"cd:{currency}"] = Decimal(1)
    return key, figures


def add(into: dict[RowKey, Figures], key: RowKey, figures: Mapping[str, Decimal], sign: int = 1) -> None:
    row = into.setdefault(key, {})
    for name, value in figures.items():
        total = row.get(name, Decimal(0)) + sign * value
        if total:
            row[name] = total
        else:
            row.pop(name, None)
    if not row:
        del into[key]


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[RowKey, Figures]:
    """What one change of an item adds to the scorecard: the new item's contribution less the old one's."""
    found: dict[RowKey, Figures] = {}
    before, after = contribution(old) if old else None, contribution(new)
    if after is not None:
        add(found, *after)
    if before is not None:
        add(found, *before, sign=-1)
    return found


def capped_words(figures: Figures, limit: int = WORDS_PER_WRITE) -> Figures:
    """The figures with at most ``limit`` raw words added, the most frequent (then first by name); the
    rest of the added words as ``w:~other``. Words taken away (a message that moved) are kept as they are."""
    added = sorted(
        ((value, name) for name, value in figures.items() if name.startswith("w:") and value > 0),
        key=lambda pair: (-pair[0], pair[1]),
    )
    if len(added) <= limit:
        return dict(figures)
    kept = {name: value for name, value in figures.items() if name not in {name for _, name in added[limit:]}}
    other = sum((value for value, _ in added[limit:]), Decimal(0))
    kept[f"w:{OTHER_WORDS}"] = kept.get(f"w:{OTHER_WORDS}", Decimal(0)) + other
    return kept


@dataclass
class Gathered:
    """Scorecard changes of a run of stream records not written yet, and that run's sequence numbers
    (first and last): a tumbling window's state, carried from one call of the window to the next."""

    first: str | None = None
    last: str | None = None
    rows: dict[RowKey, Figures] = field(default_factory=dict)

    def fits(self, more: Mapping[RowKey, Figures]) -> bool:
        return len(self.rows.keys() | more.keys()) <= MAX_ROWS

    def fold(self, sequence: str, more: Mapping[RowKey, Figures]) -> None:
        for key, figures in more.items():
            add(self.rows, key, figures)
        self.first = self.first if self.first is not None else sequence
        self.last = sequence

    def to_state(self) -> dict[str, Any]:
        """JSON for the window's state (Lambda passes it to the window's next call; at most 1 MB)."""
        if self.first is None:
            return {}
        rows = {key.text(): {name: str(value) for name, value in figures.items()} for key, figures in self.rows.items()}
        return {"first": self.first, "last": self.last, "rows": rows}

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> Gathered:
        if not state or not state.get("first"):
            return cls()
        rows = {
            RowKey.of_text(text): {name: Decimal(value) for name, value in figures.items()}
            for text, figures in (state.get("rows") or {}).items()
        }
        return cls(str(state["first"]), str(state["last"]), rows)


# -- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One row's figures summed over its hours, as the API shows them."""

    provider: str
    account: str
    country: str
    figures: Figures

    def count(self, name: str) -> int:
        return max(0, int(self.figures.get(name, 0)))

    @property
    def pending(self) -> int:
        settled = sum(self.count(name) for name in ("dlv", "fail", "sent", "unk"))
        return max(0, self.count("sub") - settled)

    @property
    def delivery_rate(self) -> float | None:
        """Delivered / (delivered + failed + unknown): SENT (no receipt will come) and pending count neither way."""
        final = self.count("dlv") + self.count("fail") + self.count("unk")
        return self.count("dlv") / final if final else None

    def failed_by_status(self) -> dict[str, int]:
        return {status.value: self.count(f"st:{status.value}") for status in FAILURES}

    def top_words(self, limit: int = 5) -> list[tuple[str, int]]:
        words = [(name[2:], self.count(name)) for name in self.figures if name.startswith("w:")]
        words = [(word, count) for word, count in words if count > 0 and word != OTHER_WORDS]
        return sorted(words, key=lambda pair: (-pair[1], pair[0]))[:limit]

    def histogram(self) -> list[tuple[int | None, int]]:
        bounds: list[int | None] = [*LATENCY_BOUNDS, None]
        return [(bound, self.count(f"l:{BEYOND if bound is None else bound}")) for bound in bounds]

    def percentile(self, share: float) -> int | None:
        """The upper bound of the histogram bucket holding ``share`` of the final receipts; None without
        any, or when it falls beyond the last bound."""
        buckets = self.histogram()
        total = sum(count for _, count in buckets)
        if not total:
            return None
        seen = 0
        for bound, count in buckets:
            seen += count
            if seen >= share * total:
                return bound
        return None  # pragma: no cover - the last bucket always reaches the total

    def costs(self) -> list[tuple[str, Decimal, int, Decimal | None]]:
        """(currency, total reported, delivered messages with a price, total / delivered) per currency."""
        found = []
        for name in sorted(self.figures):
            if not name.startswith("c:"):
                continue
            currency = name[2:]
            total, delivered = self.figures[name], self.count(f"cd:{currency}")
            found.append((currency, total, delivered, total / delivered if delivered else None))
        return found


def sheets(rows: Iterable[tuple[RowKey, Mapping[str, Decimal]]], country: str | None = None) -> list[Row]:
    """Hourly rows (any number of writers' items each) summed per provider, account and country, sorted."""
    summed: dict[tuple[str, str, str], Figures] = {}
    for key, figures in rows:
        if country is not None and key.country != country:
            continue
        total = summed.setdefault((key.provider, key.account, key.country), {})
        for name, value in figures.items():
            total[name] = total.get(name, Decimal(0)) + value
    return [Row(*names, figures) for names, figures in sorted(summed.items())]


def decimal_text(value: Decimal, places: int = 8) -> str:
    """A decimal as plain text, at most ``places`` digits after the point, no trailing zeros."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        value = value.quantize(Decimal(1).scaleb(-places))
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def hours(start: datetime, end: datetime) -> list[datetime]:
    """The hours from ``start`` (aligned) up to ``end``."""
    cursor, found = datetime.fromtimestamp(int(start.timestamp()) // 3600 * 3600, UTC), []
    while cursor < end:
        found.append(cursor)
        cursor += HOUR
    return found
