"""A real headless Chromium for the page tests: the npm package ``@sparticuz/chromium``, unpacked by
``make setup`` into ``.cache/chromium/browser``, driven by Playwright through its path (Playwright never
downloads a browser here)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import BrowserContext, sync_playwright

__all__ = ["BrowserContext", "headless_chromium"]

from tests.support import ROOT, missing

BROWSER_DIR = ROOT / ".cache" / "chromium" / "browser"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
#: The package's fonts (Open Sans) first, then the system's, in a fontconfig file of our own (the
#: package's points at /tmp).
FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>{package}</dir>
  <dir>/usr/share/fonts</dir>
  <cachedir>{cache}</cachedir>
</fontconfig>
"""
VIEWPORT = {"width": 1440, "height": 1000}


def chromium_executable(folder: Path = BROWSER_DIR) -> Path | None:
    executable = folder / "chromium"
    return executable if os.access(executable, os.X_OK) else None


def browser_environment(folder: Path, scratch: Path) -> dict[str, str]:
    """Chromium's environment: the package's NSS libraries, and fonts found through our fontconfig file."""
    conf = scratch / "fonts.conf"
    conf.write_text(FONTS_CONF.format(package=folder / "fonts" / "fonts", cache=scratch / "fonts-cache"))
    libraries = [str(folder / "al2023" / "lib"), os.environ.get("LD_LIBRARY_PATH", "")]
    return {**os.environ, "FONTCONFIG_FILE": str(conf), "LD_LIBRARY_PATH": ":".join(filter(None, libraries))}


@contextmanager
def headless_chromium(scratch: Path) -> Iterator[BrowserContext]:
    """A browser context on a fresh profile in ``scratch``; skipped (failed in CI) without the browser."""
    executable = chromium_executable()
    if executable is None:
        missing(f"no headless Chromium in {BROWSER_DIR} (make setup unpacks the npm package @sparticuz/chromium)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(scratch / "profile"),
            executable_path=str(executable),
            args=ARGS,
            env=browser_environment(BROWSER_DIR, scratch),
            viewport=VIEWPORT,
            timeout=60_000,
        )
        try:
            yield context
        finally:
            context.close()
