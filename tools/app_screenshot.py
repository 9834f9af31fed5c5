"""Take the guide's screenshot of the teaching app, ``docs/img/app.png``, and print the figures it shows.

Serves the app and drives Debian's headless chromium with the browser tests' own
machinery (``tests/browser/serving.py``), opens the link named in the screenshot's caption
in ``docs/teaching.md`` (the place, seed, preset, levers and month it describes), saves the
top of the page, then prints every card, the difference strip and *Why the money differs*
as the page shows them, for writing the caption. ``tests/test_app_info.py`` checks that
every figure of the caption is one the app shows at that link.

    .venv/bin/python tools/app_screenshot.py [--out docs/img/app.png]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the browser tests' machinery, from the source tree

from pfpp_sim.app.address import read_address  # noqa: E402
from pfpp_sim.app.assets import install_assets  # noqa: E402
from pfpp_sim.app.guide import screenshot_caption  # noqa: E402
from tests.browser.serving import CHROMIUM_ARGS, chromium_path, served_app  # noqa: E402

VIEWPORT = {"width": 1600, "height": 1500}
WAIT_MS = 60_000
SHOWN = """() => {
    const text = (selector) => [...document.querySelectorAll(selector)].map(e => e.innerText.replace(/\\s+/g, ' ').trim());
    return {
        toolbar: text('.pfpp-month'),
        strip: text('.pfpp-difference-cell'),
        siloed: text('.pfpp-side-siloed .pfpp-monitor'),
        yours: text('.pfpp-side-yours .pfpp-monitor'),
        causes: text('.pfpp-causes tbody tr'),
    };
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "app.png")
    args = parser.parse_args()
    link, _ = screenshot_caption()
    install_assets()
    with tempfile.TemporaryDirectory() as tmp, served_app(Path(tmp) / "server.log") as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(url + link)
        _, month = read_address(link)
        for selector in (".pfpp-month", ".pfpp-side-siloed .pfpp-side-month", ".pfpp-side-yours .pfpp-side-month"):
            expect(page.locator(selector)).to_contain_text(f"Month {month} of", timeout=WAIT_MS)
        page.mouse.move(0, 0)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=args.out)
        shown = page.evaluate(SHOWN)
        browser.close()
    print(f"saved {args.out.relative_to(REPO) if args.out.is_relative_to(REPO) else args.out} of {link}")
    for part, lines in shown.items():
        print(f"{part}:")
        for line in lines:
            print(f"  {line}")


if __name__ == "__main__":
    main()
