"""The browser tests' machinery, without pytest: the teaching app served in a subprocess, and Debian's chromium.

Used by ``conftest.py``'s fixtures and by ``tools/app_screenshot.py``, so the documentation's
screenshot is taken exactly as the browser tests see the app.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["CHROMIUM_ARGS", "REPO", "START_TIMEOUT_S", "chromium_path", "free_port", "served_app"]

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    """Debian's chromium, which Playwright drives through ``executable_path`` (it cannot download its own here).

    Raises
    ------
    RuntimeError
        If ``chromium`` is not on PATH (``make test`` installs it).
    """
    path = shutil.which("chromium")
    if path is None:
        raise RuntimeError("Debian's chromium is not installed (no `chromium` on PATH): `make test` installs it (apt-get install chromium)")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served_app(log_path: Path) -> Iterator[str]:
    """Serve the teaching app in a subprocess on a free loopback port until the block ends.

    Parameters
    ----------
    log_path : Path
        Where the server's output goes.

    Yields
    ------
    str
        The app's URL, once it answers.

    Raises
    ------
    RuntimeError
        If the server exits or does not answer within :data:`START_TIMEOUT_S`, with its log.
    """
    port = free_port()
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
                raise RuntimeError(f"the app server exited with code {server.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the app server did not answer within {START_TIMEOUT_S} s:\n{log_path.read_text()}")
            time.sleep(0.25)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
