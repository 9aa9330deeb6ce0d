from __future__ import annotations

import pytest

from tests.api_support import SCHEMA_REQUESTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """How many requests the schemathesis run sent, when it ran (tests/e2e/test_api_schema.py)."""
    sent = config.stash.get(SCHEMA_REQUESTS, None)
    if sent is not None:
        terminalreporter.write_line(f"schemathesis: {sent} requests to the local stack's customer API")
