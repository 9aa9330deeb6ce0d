"""A day of traffic at the volume users run, generated from a seed (pure: no I/O).

Ten million messages a day, about three reports each (a few "still waiting" words, then the
final one), through five providers and fifty accounts, one of which carries 40 % of the
traffic. Reports follow a day's curve (quiet nights, busy days) with a peak of 2,000 reports a
second for ten minutes, during which the big account also registers a campaign: 1,200
messages a second under one customer reference. :func:`day_curve` gives the rates of every
second of the day (for the queue models); :func:`peak_seconds` gives the concrete writes of
the busiest seconds, at full rate, for the hub's code to replay.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field

MESSAGES_PER_DAY = 10_000_000
REPORTS_PER_MESSAGE = 3.0
PEAK_REPORTS_PER_SECOND = 2_000
PEAK_SECONDS = 600
PEAK_START = 14 * 3600  # the peak's first second of the day (14:00 UTC)
CAMPAIGN_PER_SECOND = 1_200  # the big account's campaign registrations during the peak
SECONDS_PER_DAY = 86_400

#: provider -> share of the messages; the big account is Infin8linx's.
PROVIDER_SHARES = {"infin8linx": 0.45, "huawei": 0.15, "webcom": 0.15, "twilio": 0.15, "vonage": 0.10}
BIG_ACCOUNT = ("infin8linx", "acct00")
BIG_SHARE = 0.40
ACCOUNTS = 50
#: How each provider's reports reach the hub, and how many a callback request carries.
DELIVERY = {
    "infin8linx": ("webhook", 1),  # GET callback, one report
    "twilio": ("webhook", 1),  # one status callback a request
    "vonage": ("webhook", 1),  # one delivery receipt a request
    "webcom": ("webhook", 20),  # a JSON array (up to 1,000)
    "huawei": ("poll", 100),  # read by time window, 100 a page
}


@dataclass(frozen=True)
class Account:
    provider: str
    name: str
    share: float  # of all messages


def accounts() -> list[Account]:
    """Fifty accounts: the big one (40 %), the rest of each provider's share over its other accounts."""
    found = [Account(*BIG_ACCOUNT, BIG_SHARE)]
    others = ACCOUNTS - 1
    # the other 49 accounts, spread over the providers in proportion to their shares
    rest = {p: s - (BIG_SHARE if p == BIG_ACCOUNT[0] else 0.0) for p, s in PROVIDER_SHARES.items()}
    total = sum(rest.values())
    counts = {p: max(1, round(others * s / total)) for p, s in rest.items()}
    while sum(counts.values()) > others:
        counts[max(counts, key=counts.get)] -= 1  # type: ignore[arg-type]
    while sum(counts.values()) < others:
        counts[min(counts, key=counts.get)] += 1  # type: ignore[arg-type]
    for provider, count in counts.items():
        weights = [1 / (n + 1) for n in range(count)]  # a few bigger, many small (Zipf)
        for n, weight in enumerate(weights):
            found.append(Account(provider, f"acct{n + 1:02d}", rest[provider] * weight / sum(weights)))
    return found


def day_curve() -> list[float]:
    """Reports per second for each second of the day: a day's hump, the peak, summing to the day's reports."""
    total = MESSAGES_PER_DAY * REPORTS_PER_MESSAGE
    peak = set(range(PEAK_START, PEAK_START + PEAK_SECONDS))
    shape = [0.25 + math.sin(math.pi * max(0.0, min(1.0, (s / 3600 - 6) / 16))) ** 2 for s in range(SECONDS_PER_DAY)]
    rest = total - PEAK_REPORTS_PER_SECOND * PEAK_SECONDS
    scale = rest / sum(v for s, v in enumerate(shape) if s not in peak)
    return [PEAK_REPORTS_PER_SECOND if s in peak else v * scale for s, v in enumerate(shape)]


@dataclass
class Second:
    """The writes of one second: registrations (provider, account, id, ref) and reports; ``earlier``:
    the registrations of messages sent before the second, whose reports it brings (set up first)."""

    registrations: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    #: (provider, account, id, status, raw word)
    reports: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    earlier: list[tuple[str, str, str, str | None]] = field(default_factory=list)

    def requests(self) -> Counter[str]:
        """Callback requests by provider (a Webcom array carries several reports)."""
        counts: Counter[str] = Counter(provider for provider, *_ in self.reports)
        return Counter({p: math.ceil(n / DELIVERY[p][1]) for p, n in counts.items() if DELIVERY[p][0] == "webhook"})


FINAL_WORDS = {
    "infin8linx": [("DELIVERED", "1"), ("FAILED", "2")],
    "huawei": [("DELIVERED", "DELIVRD"), ("REJECTED", "REJECTD")],
    "webcom": [("DELIVERED", "deliver"), ("FAILED", "not_deliver")],
    "twilio": [("DELIVERED", "delivered"), ("FAILED", "undelivered")],
    "vonage": [("DELIVERED", "delivered"), ("FAILED", "failed")],
}
PENDING_WORDS = {"infin8linx": "0", "huawei": "0", "webcom": "send", "twilio": "sending", "vonage": "accepted"}


def _id(kind: int, seed: int, second: int, serial: int) -> str:
    """A message id of digits only (every provider's format takes it, Webcom's id_sms too)."""
    return f"{kind}{seed % 1000:03d}{second:05d}{serial:08d}"


def peak_seconds(seed: int, seconds: int, scale: float = 1.0) -> list[Second]:
    """The writes of ``seconds`` peak seconds at full rate (``scale`` < 1 for a quick check only).

    Each second: 2,000 reports (each a message's 1st, 2nd or 3rd report: two in three "still
    waiting" words of messages registered before, one in three final) and the registrations of
    the messages that second sends (a third of the reports' rate, by account share), plus the
    big account's campaign under one reference.
    """
    rng = random.Random(seed)
    everyone = accounts()
    weights = [account.share for account in everyone]
    found = []
    serial = 0
    for second in range(seconds):
        writes = Second()
        for _ in range(round(PEAK_REPORTS_PER_SECOND * scale / REPORTS_PER_MESSAGE)):
            account = rng.choices(everyone, weights)[0]
            serial += 1
            writes.registrations.append((account.provider, account.name, _id(1, seed, second, serial), None))
        for n in range(round(CAMPAIGN_PER_SECOND * scale)):
            writes.registrations.append((*BIG_ACCOUNT, _id(2, seed, second, n), f"campaign-{seed}"))
        registered = [(p, a, i) for p, a, i, _ in writes.registrations]
        for n in range(round(PEAK_REPORTS_PER_SECOND * scale)):
            if n % 5:  # most reports are of messages sent this second or just before
                provider, account, message_id = registered[rng.randrange(len(registered))]
            else:  # the rest of messages sent minutes before: registered before the second starts
                earlier = rng.choices(everyone, weights)[0]
                provider, account, message_id = earlier.provider, earlier.name, _id(3, seed, second, n)
                writes.earlier.append((provider, account, message_id, None))
            if rng.random() < 1 / REPORTS_PER_MESSAGE:
                status, word = rng.choices(FINAL_WORDS[provider], [0.9, 0.1])[0]
            else:
                status, word = "PENDING", PENDING_WORDS[provider]
            writes.reports.append((provider, account, message_id, status, word))
        found.append(writes)
    return found
