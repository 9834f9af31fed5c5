"""The HTML report in a real browser: what differs first, every section present, every image decoded, screenshots taken."""

from __future__ import annotations

import pytest

from pfpp_sim import compare, explain, load_scenario
from pfpp_sim.report import report_sections, write_report
from pfpp_sim.scenario_sections import differences
from pfpp_sim.sweep import run_sweep

SMALL = {"run.places": ["E07000062", "E06000032"], "run.horizon_months": 24}
SWEEP_SPEC = """
name = "two_levers"
base = "siloed_baseline"
design = "grid"
outputs = ["returned_gbp", "fuel_poverty_rate"]
[overrides]
"run.places" = ["E07000062"]
"run.horizon_months" = 12
[parameters."levers.timeline_alignment"]
levels = [false, true]
[parameters."levers.data_sharing"]
levels = [0.0, 1.0]
"""


VIEWPORT = {"width": 1280, "height": 900}
PNG = b"\x89PNG\r\n\x1a\n"


def _presets(*names):
    return [load_scenario(name).with_overrides(SMALL) for name in names]


@pytest.fixture(scope="module")
def compare_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    base, alternative = _presets("siloed_baseline", "pfpp_joined_up")
    compare(base, alternative, seed=2, replicates=2, executor="serial").save(folder)
    return folder


@pytest.fixture(scope="module")
def explain_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain")
    base, alternative = _presets("siloed_baseline", "policy_campus")
    explain(base, alternative, seed=2, replicates=2, executor="serial").save(folder)
    return folder


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    spec = folder / "two_levers.toml"
    spec.write_text(SWEEP_SPEC, encoding="utf-8")
    run_sweep(spec, folder / "out", executor="serial")
    return folder / "out"


@pytest.mark.parametrize(
    ("folder", "kind_sections"),
    [
        ("compare_folder", {"Paired differences", "Equity"}),
        ("sweep_folder", {"Sensitivity"}),
        ("explain_folder", {"What drives the difference"}),
    ],
)
def test_report_shows_every_section_and_loads_every_image(request, browser, tmp_path, folder, kind_sections):
    folder = request.getfixturevalue(folder)
    sections = [s.title for s in report_sections(folder)[1]]
    assert kind_sections <= set(sections)
    files = write_report(folder)
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(files["report"].as_uri())
    page.wait_for_load_state("load")

    assert page.locator("h2").all_inner_texts() == sections
    images = page.eval_on_selector_all(
        "img", "imgs => imgs.map(i => ({complete: i.complete, width: i.naturalWidth, alt: i.alt}))"
    )
    assert len(images) == len(files) - 1 >= 1
    for image in images:
        assert image["complete"] and image["width"] > 0, image
        assert len(image["alt"]) > 60, image["alt"]
    assert page.eval_on_selector_all("img", "imgs => imgs.every(i => i.src.startsWith('data:image/png;base64,'))")

    shot = tmp_path / "report.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.read_bytes()[:8] == PNG
    assert shot.stat().st_size > 50_000
    page.close()


def test_the_what_differs_panel_is_on_the_first_screen_and_shows_every_differing_lever(browser, tmp_path, compare_folder):
    files = write_report(compare_folder)
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(files["report"].as_uri())
    page.wait_for_load_state("load")

    assert page.locator("main > section").first.get_attribute("id") == "what-differs"
    panel = page.locator("section#what-differs")
    assert panel.is_visible()
    box = panel.bounding_box()
    assert box["y"] < VIEWPORT["height"] / 2, box
    base, alternative = _presets("siloed_baseline", "pfpp_joined_up")
    assert base.description in panel.inner_text() and alternative.description in panel.inner_text()
    expected = differences(base, alternative)
    assert expected and all(row.kind == "policy lever" for row in expected)
    rows = panel.locator("table.differs tbody tr")
    assert rows.count() == len(expected)
    for i, row in enumerate(expected):
        shown = rows.nth(i)
        assert shown.locator("th").inner_text().startswith(row.name)
        assert row.key in shown.locator("th").inner_text()
        assert shown.locator("td").all_inner_texts() == [row.base, row.alternative]
    first_row = rows.first.bounding_box()
    assert first_row["y"] + first_row["height"] <= VIEWPORT["height"], "the first differing lever shows without scrolling"

    top = tmp_path / "report_top.png"
    page.screenshot(path=top)
    assert top.read_bytes()[:8] == PNG and top.stat().st_size > 20_000
    close_up = tmp_path / "what_differs.png"
    panel.screenshot(path=close_up)
    assert close_up.read_bytes()[:8] == PNG
    page.close()
