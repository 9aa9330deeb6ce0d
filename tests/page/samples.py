"""A GET /scorecard document of the API contract's shape, for drawing the page without a stack."""

from __future__ import annotations

from typing import Any

from dlrhub.domain.scorecard import LATENCY_BOUNDS

#: The latency buckets' upper bounds in seconds (None: beyond the last), as the scorecard keeps them.
BOUNDS: list[int | None] = [*LATENCY_BOUNDS, None]


def row(
    provider: str,
    country: str,
    *,
    delivered: int,
    failed: int = 0,
    unknown: int = 0,
    sent: int = 0,
    pending: int = 0,
    latency: list[int] | None = None,
    percentiles: tuple[int | None, int | None, int | None] = (None, None, None),
    cost: list[dict[str, Any]] | None = None,
    failed_by_status: dict[str, int] | None = None,
    words: list[tuple[str, int]] = (),  # type: ignore[assignment]
    account: str = "demo",
) -> dict[str, Any]:
    counts = (latency or []) + [0] * (len(BOUNDS) - len(latency or []))
    final = delivered + failed + unknown
    return {
        "provider": provider,
        "account": account,
        "country": country,
        "submitted": delivered + failed + unknown + sent + pending,
        "delivered": delivered,
        "failed": failed,
        "sent": sent,
        "unknown": unknown,
        "pending": pending,
        "failed_by_status": failed_by_status or ({"FAILED": failed} if failed else {}),
        "top_failure_words": [{"word": word, "count": count} for word, count in words],
        "delivery_rate": delivered / final if final else None,
        "latency": {
            "buckets": [{"le_seconds": bound, "count": count} for bound, count in zip(BOUNDS, counts, strict=True)],
            "p50_seconds": percentiles[0],
            "p95_seconds": percentiles[1],
            "p99_seconds": percentiles[2],
        },
        "cost": cost or [],
    }


def scorecard_document() -> dict[str, Any]:
    """Three countries, four senders, every kind of figure: a rate of 1/16 (6.25 %: the rounding both
    sides must agree on), no final receipt yet (rate null), prices in two currencies, an unknown country."""
    return {
        "from": "2026-11-24T11:00:00Z",
        "to": "2026-11-25T11:00:00Z",
        "rows": [
            row(
                "infin8linx",
                "ID",
                delivered=1180,
                failed=64,
                unknown=6,
                sent=20,
                pending=30,
                latency=[310, 420, 260, 110, 60, 40, 20, 10, 5, 2, 2, 1],
                percentiles=(10, 300, 3600),
                failed_by_status={"FAILED": 40, "REJECTED": 16, "EXPIRED": 8},
                words=[("UNDELIV", 40), ("REJECTD", 16)],
            ),
            row(
                "innopaas",
                "ID",
                delivered=930,
                failed=150,
                pending=12,
                latency=[20, 90, 240, 300, 150, 100, 60, 40, 30, 10, 5, 3, 2, 30],
                percentiles=(60, 1800, 86400),
                cost=[{"currency": "IDR", "total": "418500.00", "delivered": 930, "per_delivered": "450.00"}],
                failed_by_status={"FAILED": 120, "EXPIRED": 30},
                words=[("2", 120)],
            ),
            row(
                "vonage",
                "ID",
                delivered=1,
                failed=15,
                latency=[0, 0, 4, 8, 4],
                percentiles=(60, 120, 120),
                cost=[{"currency": "EUR", "total": "0.0650", "delivered": 1, "per_delivered": "0.0650"}],
            ),
            row(
                "twilio",
                "NG",
                delivered=412,
                failed=38,
                sent=40,
                pending=5,
                latency=[100, 150, 120, 40, 20, 10, 5, 3, 2],
                percentiles=(10, 120, 600),
                cost=[
                    {"currency": "USD", "total": "19.7760", "delivered": 412, "per_delivered": "0.0480"},
                    {"currency": "EUR", "total": "1.2000", "delivered": 30, "per_delivered": "0.0400"},
                    {"currency": "GBP", "total": "0.0400", "delivered": 0, "per_delivered": None},
                ],
                words=[("30008", 30), ("30005", 8)],
            ),
            row(
                "vonage",
                "NG",
                delivered=380,
                failed=70,
                unknown=12,
                latency=[60, 200, 120, 50, 20, 7, 3, 2],
                percentiles=(10, 120, 300),
                cost=[{"currency": "EUR", "total": "24.7000", "delivered": 380, "per_delivered": "0.0650"}],
            ),
            row("huawei", "ZZ", delivered=0, pending=7),
        ],
    }
