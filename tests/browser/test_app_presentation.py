"""The teaching app on a projector: presentation mode at 1280 x 720 pixels and 150% zoom, in Debian's chromium.

150% zoom is emulated as the browser does it: a CSS viewport of 853 x 480 drawn at 1.5
device pixels per CSS pixel, so the screenshots are 1280 x 720. They are written to the
test's temporary folder (pytest keeps the last three runs' folders), not to the
repository.
"""

from __future__ import annotations

from playwright.sync_api import expect

WAIT_MS = 30_000
ZOOM = 1.5
SCREEN = (1280, 720)


def clipped(page) -> list[str]:
    """Cards, card values and narrative boxes whose content does not fit them, or that overflow their column."""
    return page.evaluate(
        """() => {
            const out = [];
            for (const side of document.querySelectorAll('.pfpp-side')) {
                const edge = side.getBoundingClientRect().right + 0.5;
                for (const e of side.querySelectorAll('.pfpp-monitor, .pfpp-monitor .pfpp-value, .pfpp-monitor .pfpp-label')) {
                    if (e.scrollWidth > e.clientWidth || e.getBoundingClientRect().right > edge) out.push(e.className + ': ' + e.innerText);
                }
                for (const e of side.querySelectorAll('.pfpp-narrative')) {
                    if (e.scrollHeight > e.clientHeight + 1) out.push(e.className + ' cut off');
                }
            }
            return out;
        }"""
    )


def width(page, selector: str) -> float:
    return page.locator(selector).evaluate("e => e.getBoundingClientRect().width")


def test_presentation_mode_at_1280x720_and_150_percent_zoom_shows_the_toolbar_unclipped_cards_and_large_charts(app_url, browser, tmp_path):
    page = browser.new_page(viewport={"width": round(SCREEN[0] / ZOOM), "height": round(SCREEN[1] / ZOOM)}, device_scale_factor=ZOOM)
    page.set_default_timeout(WAIT_MS)
    page.goto(app_url + "?month=27")
    month = page.locator(".pfpp-month")
    expect(month).to_contain_text("Month 27 of 60: June 2023", timeout=WAIT_MS)
    chart = ".pfpp-side-yours svg.pfpp-chart-fuel_poverty_rate"
    normal = width(page, chart)

    toggle = page.locator(".pfpp-drawer-toggle")
    expect(toggle.locator("i.mdi")).to_be_visible()
    assert toggle.locator("i.mdi").evaluate("i => getComputedStyle(i, '::before').content") not in ("none", "normal", '""'), "the toggle has an icon"
    preset = page.locator(".pfpp-preset-stop_start")
    preset.hover()
    preset.click()
    expect(page.locator(".pfpp-side-yours h2")).to_have_text("Your settings (from Stop-start funding)", timeout=WAIT_MS)
    page.locator(".pfpp-present").click()
    expect(page.locator(".pfpp-presenting")).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator(".pfpp-drawer")).to_be_hidden()
    expect(toggle).to_contain_text("Controls")

    expect(page.locator(".pfpp-step")).to_be_in_viewport()
    expect(month).to_be_in_viewport()
    assert clipped(page) == []
    page.screenshot(path=tmp_path / "presentation-toolbar.png")
    for side in ("siloed", "yours"):
        cards = page.locator(f".pfpp-side-{side} .pfpp-monitors")
        cards.scroll_into_view_if_needed()
        expect(cards.locator(".pfpp-monitor-returned .pfpp-value")).to_be_in_viewport()
    page.screenshot(path=tmp_path / "presentation-cards.png")
    page.locator(chart).scroll_into_view_if_needed()
    expect(page.locator(chart)).to_be_in_viewport()
    assert width(page, chart) >= 1.8 * normal, (width(page, chart), normal)
    page.screenshot(path=tmp_path / "presentation-chart.png")
    assert page.locator(".v-overlay--active, .v-tooltip").count() == 0, "no tooltip left over the page after a click"
    expect(page.get_by_text("runs on Solara")).to_have_count(0)
    assert clipped(page) == []
    for name in ("toolbar", "cards", "chart"):
        assert (tmp_path / f"presentation-{name}.png").stat().st_size > 10_000

    toggle.click()
    expect(page.locator(".pfpp-drawer")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator(".pfpp-preset-stop_start")).to_be_visible()
    page.locator(".pfpp-present").click()
    expect(page.locator(".pfpp-presenting")).to_have_count(0, timeout=WAIT_MS)
    expect(month).to_contain_text("Month 27 of 60: June 2023")
