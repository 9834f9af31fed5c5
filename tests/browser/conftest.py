"""Shared set-up of the browser tests: Debian's chromium, driven by Playwright.

Playwright cannot download its own browsers here, so the tests drive the ``chromium``
package (``make test`` installs it) through ``executable_path``.
"""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium for one test module."""
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(
            "Debian's chromium is not installed (no `chromium` on PATH): `make test` installs it (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
