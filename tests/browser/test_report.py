"""The HTML report in a real browser: every section present, every image decoded, screenshot taken."""

from __future__ import annotations

import pytest

from pfpp_sim import compare, explain, load_scenario
from pfpp_sim.report import report_sections, write_report
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


@pytest.fixture(scope="module")
def compare_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    base, alternative = (load_scenario(name).with_overrides(SMALL) for name in ("siloed_baseline", "pfpp_joined_up"))
    compare(base, alternative, seed=2, replicates=2, executor="serial").save(folder)
    return folder


@pytest.fixture(scope="module")
def explain_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain")
    base, alternative = (load_scenario(name).with_overrides(SMALL) for name in ("siloed_baseline", "policy_campus"))
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
    page = browser.new_page(viewport={"width": 1280, "height": 900})
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
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000
    page.close()
