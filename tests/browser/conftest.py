"""Shared set-up of the browser tests: Debian's chromium, driven by Playwright, and the teaching app's server.

The machinery itself is in ``serving.py``, which ``tools/app_screenshot.py`` uses too.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from pfpp_sim.app.assets import install_assets
from pfpp_sim.errors import PfppError
from tests.browser.serving import CHROMIUM_ARGS, chromium_path, served_app


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium for one test module."""
    try:
        path = chromium_path()
    except RuntimeError as err:
        pytest.fail(str(err))
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The teaching app served for one test module, on a free loopback port; its log is shown if it fails to start."""
    try:
        install_assets()  # the app's browser files, once, from the npm registry
    except PfppError as err:
        pytest.fail(f"cannot install the app's browser files: {err}")
    try:
        with served_app(tmp_path_factory.mktemp("server") / "server.log") as url:
            yield url
    except RuntimeError as err:
        pytest.fail(str(err))
