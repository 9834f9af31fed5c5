"""Shared set-up of the browser tests: Debian's chromium, driven by Playwright, and the teaching app's server.

Playwright cannot download its own browsers here, so the tests drive the ``chromium``
package (``make test`` installs it) through ``executable_path``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from pfpp_sim.app.assets import install_assets
from pfpp_sim.errors import PfppError

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


REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The teaching app served for one test module, on a free loopback port; its log is shown if it fails to start."""
    try:
        install_assets()  # the app's browser files, once, from the npm registry
    except PfppError as err:
        pytest.fail(f"cannot install the app's browser files: {err}")
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-c", f"from pfpp_sim.app import serve; serve('127.0.0.1', {port})"],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if server.poll() is not None:
                pytest.fail(f"the app server exited with code {server.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the app server did not answer within {START_TIMEOUT_S} s:\n{log_path.read_text()}")
            time.sleep(0.25)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
