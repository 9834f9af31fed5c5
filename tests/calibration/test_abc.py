"""ABC-SMC posteriors of a place's trends (the optional 'abc' extra, installed by make test)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from pfpp_sim.calibration import calibrate
from pfpp_sim.calibration.fit import Settings
from pfpp_sim.calibration.report import write_calibration
from pfpp_sim.scenario import load_scenario

pytest.importorskip("pyabc", reason="the abc extra is part of make test")

from pfpp_sim.calibration.abc import abc_posterior  # noqa: E402

LUTON = "E06000032"
TINY = Settings(min_young_people_per_place=3000, replicates=1, max_iterations=1, fit_globals=())


@pytest.fixture(scope="module")
def posterior(tmp_path_factory):
    np.random.seed(123)
    found = abc_posterior(
        load_scenario("baseline_history"), LUTON, database=tmp_path_factory.mktemp("abc") / "abc.db", settings=TINY,
        population_size=12, generations=3, seed=4,
    )
    found.global_draw_after = np.random.random()  # the caller's global generator, as ABC left it
    return found


def test_abc_leaves_numpys_global_generator_as_it_found_it(posterior):
    np.random.seed(123)
    assert posterior.global_draw_after == np.random.random()


def test_abc_smc_narrows_its_threshold_and_returns_a_weighted_posterior(posterior):
    assert len(posterior.particles) == 12
    assert posterior.particles["weight"].sum() == pytest.approx(1.0)
    assert np.all(np.diff(posterior.epsilons) < 0), "each generation accepts only closer particles"
    assert posterior.simulations >= 3 * 12
    summary = posterior.summary().set_index("parameter")
    assert (summary.q05 <= summary["mean"]).all() and (summary["mean"] <= summary.q95).all()
    assert summary.loc["income_trend", "sd"] < 0.2 / np.sqrt(12)  # narrower than the uniform prior over [-0.1, 0.1]


def test_the_fit_report_shows_a_posterior_next_to_the_estimate(posterior, tmp_path):
    fitted = calibrate(load_scenario("baseline_history"), [LUTON], name="luton", settings=TINY, workers=1)
    files = write_calibration(fitted, tmp_path, [posterior])
    html = files["report"].read_text()
    assert "ABC-SMC posterior" in html and html.count("data:image/png;base64,") == 4
    assert files[f"abc_{LUTON}"].stat().st_size > 0 and files[f"abc_{LUTON}_particles"].exists()


def test_calibrate_refuses_abc_for_a_place_it_does_not_fit_before_fitting(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pfpp_sim", "calibrate", "--places", LUTON, "--abc", "E08000025"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
    )
    assert done.returncode == 2 and "--abc E08000025" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "calibration").exists()
