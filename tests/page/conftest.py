from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext

from tests.browser import headless_chromium


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """One headless Chromium for the page tests (a new page per test)."""
    with headless_chromium(tmp_path_factory.mktemp("chromium")) as context:
        yield context
