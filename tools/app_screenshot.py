"""Take the README's screenshot of the teaching app: ``docs/img/app.png``.

Starts ``pfpp app`` on a free loopback port, plays Hastings to month 27 (June 2023, just
after the April 2023 deadlines) in Debian's headless chromium, and saves the page.

    .venv/bin/python tools/app_screenshot.py [--out docs/img/app.png] [--months 27]
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "app.png")
    parser.add_argument("--months", type=int, default=27)
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("Debian's chromium is not installed: `make test` installs it")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-c", f"from pfpp_sim.app import serve; serve('127.0.0.1', {port})"], cwd=REPO)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.25)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1420})
            page.set_default_timeout(30_000)
            page.goto(url)
            month = page.locator(".pfpp-month")
            month.wait_for()
            for _ in range(args.months):
                shown = int(re.search(r"Month (\d+) of", month.inner_text()).group(1))
                page.click(".pfpp-step")
                page.wait_for_function(f"document.querySelector('.pfpp-month').innerText.includes('Month {shown + 1} of')")
            page.mouse.move(0, 0)
            time.sleep(0.5)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.out)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"saved {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out}")


if __name__ == "__main__":
    main()
