from __future__ import annotations

from dlrhub.adapters.http import MAX_RETRY_AFTER, HttpSettings


def test_worst_case_is_every_attempt_timing_out_plus_backoff() -> None:
    settings = HttpSettings(connect_timeout=3, read_timeout=10, retries=3, backoff=0.3)
    assert settings.worst_case_seconds == 4 * 13 + (0.6 + 1.2 + 2.4) + 3 * MAX_RETRY_AFTER


def test_no_retries_is_one_attempt() -> None:
    assert HttpSettings(connect_timeout=1, read_timeout=2, retries=0).worst_case_seconds == 3
