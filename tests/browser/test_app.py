"""The teaching app in a real browser: Debian's chromium, driven by Playwright.

Playwright cannot download its own browsers here, so the test drives the ``chromium``
package (``make test`` installs it). The app server (``app_url`` in ``conftest.py``) runs
in a subprocess on a free loopback port and is stopped when the module's tests end.
"""

from __future__ import annotations

import re

import pandas as pd
from PIL import Image
from playwright.sync_api import expect

from pfpp_sim.app.charts import BASELINE_COLOUR, CHOSEN_COLOUR
from pfpp_sim.app.narrative import money

WAIT_MS = 30_000
LINES = {name: tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5)) for name, colour in (("siloed", BASELINE_COLOUR), ("yours", CHOSEN_COLOUR))}


def months_shown(text: str) -> int:
    return int(re.search(r"Month (\d+) of", text).group(1))


def test_room_pools_presses_play_and_the_joined_up_side_diverges(app_url, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1600, "height": 1750})
    page.set_default_timeout(WAIT_MS)
    page.goto(app_url)
    month = page.locator(".pfpp-month")
    expect(month).to_contain_text("Month 0 of 60", timeout=WAIT_MS)

    pooling = page.locator(".pfpp-lever-pooling [role=slider]")
    pooling.focus()
    pooling.press("ArrowLeft")
    pooling.press("ArrowLeft")
    expect(pooling).to_have_attribute("aria-valuenow", "0.8", timeout=WAIT_MS)

    chart = page.locator(".pfpp-side-yours svg.pfpp-chart-fuel_poverty_rate")
    before = chart.evaluate("svg => svg.outerHTML")
    page.click(".pfpp-play")
    expect(month).to_contain_text(re.compile(r"Month (1[4-9]|[2-6]\d) of 60"), timeout=WAIT_MS)
    page.click(".pfpp-play")
    expect(page.locator(".pfpp-play")).to_contain_text("Play", timeout=WAIT_MS)

    assert months_shown(month.inner_text()) >= 14
    after = chart.evaluate("svg => svg.outerHTML")
    assert after != before
    assert "<polyline" in after
    returned = [page.inner_text(f".pfpp-side-{side} .pfpp-monitor-returned .pfpp-value") for side in ("siloed", "yours")]
    assert returned[0] != returned[1], returned
    expect(page.locator(".pfpp-difference-returned_gbp .pfpp-value")).to_have_text(re.compile(r"^[+\u2212]£"))
    expect(page.locator(".pfpp-side-siloed .pfpp-narrative")).to_contain_text("clawed back")
    expect(page.locator(".pfpp-side-siloed svg.pfpp-flow")).to_contain_text("Returned")
    page.screenshot(path=tmp_path / "app.png")
    assert (tmp_path / "app.png").stat().st_size > 10_000

    # With the baseline preset on both sides, same seed: identical runs, to the penny.
    page.click(".pfpp-preset-siloed_baseline")
    expect(page.locator(".pfpp-side-yours h2")).to_contain_text("Siloed baseline", timeout=WAIT_MS)
    returned = [page.inner_text(f".pfpp-side-{side} .pfpp-monitor-returned .pfpp-value") for side in ("siloed", "yours")]
    assert returned[0] == returned[1], returned
    expect(page.locator(".pfpp-difference-returned_gbp .pfpp-value")).to_have_text("£0")


def test_room_steps_a_year_and_asks_why_the_two_sides_differ(app_url, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1600, "height": 1750})
    page.set_default_timeout(WAIT_MS)
    page.goto(app_url)
    month = page.locator(".pfpp-month")
    expect(month).to_contain_text("Month 0 of 60", timeout=WAIT_MS)
    why = page.locator(".pfpp-why-button")
    expect(why).to_be_disabled()

    page.click(".pfpp-step-year")
    expect(month).to_contain_text("Month 12 of 60", timeout=WAIT_MS)
    expect(why).to_be_enabled()
    why.click()
    panel = page.locator(".pfpp-why-panel")
    # The joined-up preset differs in seven levers: every combination of them, 126 runs on the machine's cores.
    expect(panel).to_contain_text("Why do the two sides differ? Hastings, Month 12 (Mar 2022)", timeout=120_000)
    for name in ("Pooling (share of each stream)", "Aligned timelines", "Carry-over of unspent money", "Data sharing", "Secondments"):
        expect(panel).to_contain_text(name)
    expect(panel.locator("svg.pfpp-why-chart-delivered_gbp")).to_be_visible()
    expect(panel).to_contain_text("Money returned, to date: £0")  # no deadline yet: nothing clawed back on either side
    expect(why).to_be_disabled()  # this month is explained; stepping on asks again
    panel.screenshot(path=tmp_path / "why.png")
    assert (tmp_path / "why.png").stat().st_size > 10_000

    page.click(".pfpp-step")
    expect(month).to_contain_text("Month 13 of 60", timeout=WAIT_MS)
    expect(panel).to_have_count(0)
    expect(why).to_be_enabled()


def side_months(page) -> list[str]:
    """The toolbar's month and each side's own month line, read in one go."""
    return page.evaluate(
        """() => [
            document.querySelector('.pfpp-month').innerText.split(' · ').pop(),
            document.querySelector('.pfpp-side-siloed .pfpp-side-month').innerText,
            document.querySelector('.pfpp-side-yours .pfpp-side-month').innerText,
        ]"""
    )


def test_levers_a_preset_and_the_place_changed_during_play_leave_both_sides_at_the_same_month(app_url, browser):
    page = browser.new_page(viewport={"width": 1600, "height": 1750})
    page.set_default_timeout(WAIT_MS)
    page.goto(app_url)
    month = page.locator(".pfpp-month")
    expect(month).to_contain_text("Month 0 of 60", timeout=WAIT_MS)

    def after_a_month_played(change) -> None:
        shown = months_shown(month.inner_text())
        expect(month).not_to_contain_text(f"Month {shown} of", timeout=WAIT_MS)
        change()

    def choose_place(name: str) -> None:
        page.click(".pfpp-place .v-field")
        page.get_by_role("option", name=name, exact=True).click()

    # Later months take longer to replay, which is when a change used to race the month being played.
    page.click(".pfpp-step-year")
    expect(month).to_contain_text("Month 12 of 60", timeout=WAIT_MS)
    page.click(".pfpp-step-year")
    expect(month).to_contain_text("Month 24 of 60", timeout=WAIT_MS)
    page.click(".pfpp-play")
    for lever in ("carry_over", "secondments", "single_point_of_contact", "funding_mapping", "carry_over", "policy_campus"):
        after_a_month_played(lambda lever=lever: page.click(f".pfpp-lever-{lever} input"))
    after_a_month_played(lambda: page.click(".pfpp-preset-stop_start"))
    after_a_month_played(lambda: page.click(".pfpp-lever-secondments input"))
    after_a_month_played(lambda: choose_place("Luton"))
    after_a_month_played(lambda: page.click(".pfpp-lever-carry_over input"))
    after_a_month_played(lambda: page.click(".pfpp-play"))
    expect(page.locator(".pfpp-play")).to_contain_text("Play", timeout=WAIT_MS)
    expect(month).to_contain_text("Luton", timeout=WAIT_MS)
    page.wait_for_timeout(1_000)  # a month stepped as Pause was pressed, and the rebuilds, show too

    toolbar, siloed, yours = side_months(page)
    assert toolbar == siloed == yours, (toolbar, siloed, yours)
    assert months_shown(toolbar) >= 35
    page.click(".pfpp-step")
    expect(month).to_contain_text(f"Month {months_shown(toolbar) + 1} of", timeout=WAIT_MS)
    page.wait_for_timeout(500)
    toolbar, siloed, yours = side_months(page)
    assert toolbar == siloed == yours, (toolbar, siloed, yours)


def test_every_preset_offered_keeps_both_sides_on_the_same_months(app_url, browser):
    page = browser.new_page(viewport={"width": 1600, "height": 1750})
    page.set_default_timeout(WAIT_MS)
    page.goto(app_url)
    month = page.locator(".pfpp-month")
    expect(month).to_contain_text("Month 0 of 60", timeout=WAIT_MS)
    page.click(".pfpp-step-year")
    expect(month).to_contain_text("Month 12 of 60", timeout=WAIT_MS)
    page.click(".pfpp-step-year")
    expect(month).to_contain_text("Month 24 of 60", timeout=WAIT_MS)
    for side in ("siloed", "yours"):  # each column's month line is its own widget: it may arrive a moment after the toolbar's
        expect(page.locator(f".pfpp-side-{side} .pfpp-side-month")).to_contain_text("Month 24 of 60", timeout=WAIT_MS)
    reached = side_months(page)

    expect(page.locator(".pfpp-preset-baseline_history")).to_have_count(0)
    expect(page.locator(".pfpp-presets-left-out")).to_contain_text("Baseline history")
    buttons = page.locator("button[class*='pfpp-preset-']")
    names = [re.search(r"pfpp-preset-(\w+)", c).group(1) for c in buttons.evaluate_all("bs => bs.map(b => b.className)")]
    assert "siloed_baseline" in names and len(names) >= 5, names
    for name in names:
        button = page.locator(f".pfpp-preset-{name}")
        title = button.inner_text().strip()
        button.click()
        expect(page.locator(".pfpp-side-yours h2")).to_have_text(f"Your settings (from {title})", ignore_case=True, timeout=WAIT_MS)
        shown = side_months(page)
        assert shown == reached, (name, shown, reached)


def test_the_seed_box_refuses_a_bad_seed_visibly_and_shows_the_seed_in_use(app_url, browser):
    page = browser.new_page(viewport={"width": 1600, "height": 1750})
    page.set_default_timeout(WAIT_MS)
    page.goto(app_url)
    month = page.locator(".pfpp-month")
    expect(month).to_contain_text("seed 1 · Month 0 of 60", timeout=WAIT_MS)
    seed = page.locator(".pfpp-seed input")
    message = page.locator(".pfpp-seed .v-messages")
    for bad in ("abc", "", "-5"):
        seed.fill(bad)
        seed.press("Enter")
        expect(message).to_contain_text("still using seed 1", timeout=WAIT_MS)
        expect(message).to_contain_text(bad or "(empty)")
        expect(page.locator(".pfpp-seed input")).to_have_value("1")
        expect(month).to_contain_text("seed 1 ·")
    page.locator(".pfpp-seed input").fill("7")
    page.locator(".pfpp-seed input").press("Enter")
    expect(month).to_contain_text("seed 7 ·", timeout=WAIT_MS)
    expect(page.locator(".pfpp-seed input")).to_have_value("7")
    expect(page.get_by_text("still using seed")).to_have_count(0)


def shown_state(page) -> dict[str, str]:
    """What the room reads of the state: toolbar line, each side's month and heading, and a lever's switch."""
    return page.evaluate(
        """() => ({
            toolbar: document.querySelector('.pfpp-month').innerText,
            siloed: document.querySelector('.pfpp-side-siloed .pfpp-side-month').innerText,
            yours: document.querySelector('.pfpp-side-yours .pfpp-side-month').innerText,
            heading: document.querySelector('.pfpp-side-yours h2').innerText,
            carry_over: document.querySelector('.pfpp-lever-carry_over input').checked,
            returned: document.querySelector('.pfpp-side-yours .pfpp-monitor-returned .pfpp-value').innerText,
        })"""
    )


def expect_state(page, state: dict[str, str]) -> None:
    """Wait until the page shows ``state`` (from :func:`shown_state`): its widgets are updated one by one."""
    for selector, key in (
        (".pfpp-month", "toolbar"), (".pfpp-side-siloed .pfpp-side-month", "siloed"), (".pfpp-side-yours .pfpp-side-month", "yours"),
        (".pfpp-side-yours h2", "heading"), (".pfpp-side-yours .pfpp-monitor-returned .pfpp-value", "returned"),
    ):
        expect(page.locator(selector)).to_have_text(state[key], timeout=WAIT_MS)
    expect(page.locator(".pfpp-lever-carry_over input")).to_be_checked(checked=state["carry_over"], timeout=WAIT_MS)


def test_a_reload_or_a_shared_link_shows_the_same_place_seed_preset_levers_and_month(app_url, browser):
    page = browser.new_page(viewport={"width": 1600, "height": 1750})
    page.set_default_timeout(WAIT_MS)
    page.goto(app_url)
    month = page.locator(".pfpp-month")
    expect(month).to_contain_text("Month 0 of 60", timeout=WAIT_MS)
    page.click(".pfpp-place .v-field")
    page.get_by_role("option", name="Luton", exact=True).click()
    expect(month).to_contain_text("Luton", timeout=WAIT_MS)
    page.locator(".pfpp-seed input").fill("7")
    page.locator(".pfpp-seed input").press("Enter")
    expect(month).to_contain_text("seed 7", timeout=WAIT_MS)
    page.click(".pfpp-preset-stop_start")
    expect(page.locator(".pfpp-side-yours h2")).to_have_text("Your settings (from Stop-start funding)", timeout=WAIT_MS)
    page.click(".pfpp-lever-carry_over input")
    expect(page.locator(".pfpp-side-yours h2")).to_have_text("Your settings (from Stop-start funding, 1 lever changed)", timeout=WAIT_MS)
    page.locator(".pfpp-run-to-month input").fill("14")
    page.click(".pfpp-run-to")
    expect(month).to_contain_text("Luton · seed 7 · Month 14 of 60: May 2022", timeout=WAIT_MS)
    expect(page).to_have_url(re.compile(r"\?place=E06000032&scale=0\.01&seed=7&preset=stop_start&month=14&carry_over=on$"), timeout=WAIT_MS)
    for side in ("siloed", "yours"):
        expect(page.locator(f".pfpp-side-{side} .pfpp-side-month")).to_have_text("Month 14 of 60: May 2022", timeout=WAIT_MS)
    before = shown_state(page)
    assert before["carry_over"] is True

    page.reload()
    expect_state(page, before)
    page.click(".pfpp-step")
    expect(page).to_have_url(re.compile(r"&month=15&"), timeout=WAIT_MS)
    page.go_back()
    expect(month).to_contain_text("Luton · seed 7 · Month 14 of 60: May 2022", timeout=WAIT_MS)
    expect(page).to_have_url(re.compile(r"&month=14&"), timeout=WAIT_MS)
    expect_state(page, before)

    shared = browser.new_page(viewport={"width": 1600, "height": 1750})
    shared.set_default_timeout(WAIT_MS)
    shared.goto(page.url)
    expect_state(shared, before)

    shared.goto(app_url + "?month=99&seed=7")
    refused = shared.locator(".pfpp-link-refused")
    expect(refused).to_contain_text("This link's settings could not be used, so the app shows its defaults: month '99'", timeout=WAIT_MS)
    expect(shared.locator(".pfpp-month")).to_contain_text("Hastings · seed 1 · Month 0 of 60")
    shared.click(".pfpp-link-refused-close")
    expect(refused).to_have_count(0, timeout=WAIT_MS)


def test_the_charts_and_the_data_on_screen_download_as_png_and_csv(app_url, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1600, "height": 1750}, accept_downloads=True)
    page.set_default_timeout(WAIT_MS)
    page.goto(app_url + "?month=27")
    expect(page.locator(".pfpp-month")).to_contain_text("Hastings · seed 1 · Month 27 of 60: June 2023", timeout=WAIT_MS)

    with page.expect_download(timeout=WAIT_MS) as caught:
        page.click(".pfpp-export-png")
    assert caught.value.suggested_filename == "pfpp-hastings-seed1-pfpp_joined_up-month27-charts.png"
    png = tmp_path / caught.value.suggested_filename
    caught.value.save_as(png)
    with Image.open(png) as image:
        assert image.format == "PNG" and image.width >= 2000 and image.height >= 1000, image.size
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    drawn = {name: sum(n for n, rgb in colours if max(abs(a - b) for a, b in zip(rgb, want)) < 24) for name, want in LINES.items()}
    assert min(drawn.values()) > 1_000, drawn  # both sides' lines are in the image

    with page.expect_download(timeout=WAIT_MS) as caught:
        page.click(".pfpp-export-csv")
    assert caught.value.suggested_filename == "pfpp-hastings-seed1-pfpp_joined_up-month27-data.csv"
    csv = tmp_path / caught.value.suggested_filename
    caught.value.save_as(csv)
    table = pd.read_csv(csv)
    assert table["month"].max() == 27
    for side in ("siloed", "yours"):
        returned = table[(table["side"] == side) & (table["month"] == 27) & (table["metric"] == "returned_gbp")]["value"].item()
        assert money(returned) == page.inner_text(f".pfpp-side-{side} .pfpp-monitor-returned .pfpp-value"), side


def test_the_info_panel_shows_the_trainers_guide_section_by_section(app_url, browser):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.set_default_timeout(WAIT_MS)
    page.goto(app_url)
    expect(page.locator(".pfpp-month")).to_contain_text("Month 0 of 60", timeout=WAIT_MS)
    page.click(".pfpp-info-toggle")
    info = page.locator(".pfpp-info")
    expect(info).to_be_in_viewport(timeout=WAIT_MS)
    expect(info.locator(".pfpp-info-text")).to_contain_text("Difference strip.", timeout=WAIT_MS)
    info.get_by_role("button", name="Things to try").click()
    expect(info.locator(".pfpp-info-text")).to_contain_text("Before the room arrives", timeout=WAIT_MS)
    expect(info.locator(".pfpp-info-text table")).to_contain_text("ask the room")
    info.get_by_role("button", name="Things to notice").click()
    expect(info.locator(".pfpp-info-text")).to_contain_text("not forecasts", timeout=WAIT_MS)
    page.click(".pfpp-info-close")
    expect(info).to_have_count(0, timeout=WAIT_MS)
