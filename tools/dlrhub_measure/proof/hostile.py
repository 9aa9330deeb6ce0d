"""Hostile input over HTTP against the local stack (docs/proof.md, "The suites").

Three phases, each sent by many threads at once:

1. **unauthenticated**: every webhook route (one per provider with a webhook), requests without a
   credential the route checks, most of them with hostile content too. Pass: none answered 2xx or
   5xx, and the table's message items are exactly as before (a digest of every item).
2. **authenticated**: the same routes with every credential and hostile content, and plain valid
   callbacks among them. Pass: no 5xx; every valid callback answered 200 and stored; every message
   item written names an id of a request answered 200 (a request refused stores nothing).
3. **customer API**: every route, hostile paths, queries, bodies. Pass: no 5xx.

Every reply: no secret, exception text or internal endpoint (nor a phone number sent, but in the
customer API's own 2xx reads). A case is rebuilt from (seed, route, phase, index) alone.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dlrhub_measure.aws import scan
from dlrhub_measure.proof.api_cases import ApiRoutes
from dlrhub_measure.proof.cases import Case
from dlrhub_measure.proof.figures import Figures
from dlrhub_measure.proof.rawhttp import Reply
from dlrhub_measure.proof.senders import Sent, Tally, send_cases
from dlrhub_measure.proof.stored import changed, identity, message_digests
from dlrhub_measure.proof.target import Target
from dlrhub_measure.proof.webhook_cases import ACCOUNT, WEBHOOK_PROVIDERS, WebhookRoute

SEED = 20261125


@dataclass(frozen=True)
class Sizes:
    per_route: int  # per webhook route, half without credentials and half with
    api: int
    senders: int
    budget: float  # seconds at most per phase


FULL = Sizes(per_route=10_000, api=5_000, senders=50, budget=900)
SHORT = Sizes(per_route=300, api=300, senders=16, budget=120)


class Record(Tally):
    """What came back, by route: statuses, 5xx by kind, ids answered 200 (and of valid callbacks)."""

    def __init__(self, target: Target, figures: Figures) -> None:
        super().__init__(figures, target.scanner)
        self.kinds_5xx: Counter[str] = Counter()
        self.acknowledged: dict[str, set[str]] = defaultdict(set)
        self.must_store: dict[str, set[str]] = defaultdict(set)

    def group(self, case: Case) -> str:
        return case.route

    def took(self, sent: Sent, reply: Reply) -> None:
        case, where = sent.case, self.name(sent)
        if reply.status >= 500:
            self.kinds_5xx[case.kind] += 1
            if self.kinds_5xx[case.kind] <= 3:
                self.figures.fail(f"{where}: {reply.status} {reply.text[:200]!r}")
        if not case.authenticated and 200 <= reply.status < 300:
            self.figures.fail(f"{where}: {reply.status} without a credential: {reply.text[:200]!r}")
        if reply.status == 200:
            self.acknowledged[case.route] |= case.ids
            if case.must_store:
                self.must_store[case.route] |= case.ids
        elif case.must_store:
            self.figures.fail(f"{where}: a valid callback answered {reply.status} {reply.text[:200]!r}")


def interleaved(routes: list[WebhookRoute], phase: str) -> Callable[[int], Case]:
    """Case ``i`` of the phase: route ``i % len(routes)``, that route's case ``i // len(routes)``."""
    return lambda i: routes[i % len(routes)].case(phase, i // len(routes))


def message_items(target: Target) -> dict[str, str]:
    return message_digests(scan(target.dynamodb, target.table))


def rebuild(origin: str, host: str, accounts: dict[str, dict[str, Any]], seed: int = SEED) -> Case:
    """The case a failure names ("vonage/authenticated/63"), to send again or look at."""
    route, phase, index = origin.split("/")
    if route == "api":
        return ApiRoutes(host, seed).case(phase, int(index))
    return WebhookRoute(route, host, accounts, seed).case(phase, int(index))


def run(target: Target, sizes: Sizes = SHORT, seed: int = SEED) -> Figures:
    figures = Figures("hostile input")
    mark = target.begin(figures)
    started = time.monotonic()
    routes = [WebhookRoute(provider, target.host, target.accounts, seed) for provider in WEBHOOK_PROVIDERS]
    record = Record(target, figures)

    def send(phase: str, make: Callable[[int], Case], count: int) -> None:
        began = time.monotonic()
        sent = send_cases(target.port, make, count, record, senders=sizes.senders, budget=sizes.budget)
        seconds = time.monotonic() - began
        figures.notes.append(f"{phase}: {sent:,} requests in {seconds:.1f} s ({sent / seconds:,.0f}/s)")
        if sent < count:
            figures.fail(f"{phase}: only {sent} of {count} requests sent within {sizes.budget} s")

    # A valid callback per route first: each route works, and each account is read (and cached) once.
    send("warm-up", lambda i: routes[i].valid(i, "warm-up"), len(routes))
    before = message_items(target)
    unauthenticated = sizes.per_route // 2
    send("unauthenticated", interleaved(routes, "unauthenticated"), unauthenticated * len(routes))
    after = message_items(target)
    written = changed(before, after)
    figures.unauthenticated_writes = len(written)
    for pk in written[:10]:
        figures.fail(f"a message item written during the unauthenticated phase: {pk[:120]}")

    authenticated = sizes.per_route - unauthenticated
    send("authenticated", interleaved(routes, "authenticated"), authenticated * len(routes))
    final = message_items(target)
    check_writes(figures, record, changed(after, final))
    check_stored(figures, record, final)

    api = ApiRoutes(target.host, seed)
    send("api", lambda i: api.case("api", i), sizes.api)

    figures.seconds = time.monotonic() - started
    for route in sorted({route for route, _ in record.statuses}):
        statuses = sorted((status, n) for (group, status), n in record.statuses.items() if group == route)
        figures.notes.append(f"{route}: " + ", ".join(f"{status or 'no reply'}: {n}" for status, n in statuses))
        if route != "api" and record.statuses[(route, 200)] == 0:
            figures.fail(f"{route}: no request answered 200: the generator never reached the parser")
    if record.kinds_5xx:
        figures.notes.append(f"5xx by kind: {dict(record.kinds_5xx.most_common(10))}")
    target.end(figures, mark)
    return figures


def check_writes(figures: Figures, record: Record, written: list[str]) -> None:
    """Every message item written in the authenticated phase is one a request answered 200 named."""
    stray = []
    for pk in written:
        provider, account, message_id = identity(pk)
        if account != ACCOUNT or message_id not in record.acknowledged[provider]:
            stray.append(pk)
    figures.notes.append(f"message items written by authenticated hostile requests: {len(written)}")
    for pk in stray[:10]:
        figures.fail(f"written, but no request answered 200 named it: {pk[:160]!r}")


def check_stored(figures: Figures, record: Record, digests: dict[str, str]) -> None:
    """Every valid callback answered 200 is stored."""
    missing = [
        f"{provider}/{message_id}"
        for provider, ids in record.must_store.items()
        for message_id in ids
        if f"MSG#{provider}#{ACCOUNT}#{message_id}" not in digests
    ]
    figures.lost = len(missing)
    for name in missing[:10]:
        figures.fail(f"a valid callback answered 200 but not stored: {name}")
