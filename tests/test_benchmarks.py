"""The benchmarks run, and their naive reference follows the model's resident rules (no timing checks)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from benchmarks.naive_mesa import NaiveResidentsModel, rates_agree, run_naive, run_vectorised, starting_model
from benchmarks.scaling import national_run, national_scenario

ROOT = Path(__file__).resolve().parents[1]


def test_naive_mesa_and_vectorised_residents_give_the_same_rates_within_monte_carlo_error():
    scenario = national_scenario(0.001, 6)
    naive = run_naive(scenario, 6, seed=3)
    vectorised = run_vectorised(scenario, 6, seed=3)
    pop = starting_model(scenario, seed=3).population
    agreement = rates_agree(naive, vectorised, pop.households.n, pop.young.n)
    assert all(rate["agree"] for rate in agreement.values()), agreement
    assert 0.02 < naive.rates["fuel_poverty_rate"].mean() < 0.5, "the sample should have a measurable fuel-poverty rate"
    assert naive.residents == vectorised.residents == pop.households.n + pop.young.n
    assert not np.array_equal(naive.rates["neet_16_24_rate"], vectorised.rates["neet_16_24_rate"]), "independent draws, not a copy"


def test_without_income_shocks_or_youth_earnings_naive_households_turn_fuel_poor_as_the_model_flags_them():
    # With no random income shocks and no earnings from young people, the household rule is
    # deterministic: the naive agents must flag the same households (incomes differ only by
    # float32 versus float64 rounding of the log deviations).
    scenario = national_scenario(0.001, 3).with_overrides(
        {"world.households.income_shock_sd.value": 0.0, "world.young_people.youth_earnings.value": 0.0}
    )
    model = starting_model(scenario, seed=5)
    naive = NaiveResidentsModel(model, seed=5)
    for t in range(3):
        model.step_residents(t)
        naive.step()
    flags = np.array([household.fuel_poor for household in naive.households])
    months_cold = np.array([household.months_cold for household in naive.households])
    h = model.population.households
    assert flags.sum() > 100
    assert np.mean(flags != h.fuel_poor) < 1e-3
    assert np.mean(months_cold != h.months_cold) < 1e-3


def test_national_run_reports_wall_time_and_the_child_process_peak_memory():
    small = ["run", "siloed_baseline", "--places", "E07000062", "--scale", "0.001", "--horizon", "2", "--serial"]
    result = national_run(arguments=small)
    assert result["command"] == "pfpp " + " ".join(small)
    assert result["wall_seconds"] > 0 and result["run_seconds"] > 0
    assert result["peak_rss_bytes"] > 50 * 2**20, "a Python process with numpy and pandas loaded"


def test_pfpp_bench_quick_writes_valid_json_and_markdown_tables(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pfpp_sim", "bench", "--quick", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "quick.json").read_text(encoding="utf-8"))
    assert results["mode"] == "quick" and results["national"] is False and results["national_run"] is None
    assert [row["scale"] for row in results["scaling"]] == [0.0005, 0.001]
    for row in results["scaling"]:
        assert row["households"] > 0 and row["young_people"] > 0
        assert row["resident_steps_per_second"] > 0 and row["peak_rss_bytes"] > 0
    assert results["scaling"][0]["households"] < results["scaling"][1]["households"]
    naive = results["naive_comparison"][0]
    assert naive["rates_agree"] is True and naive["naive"]["resident_steps_per_second"] > 0
    assert [row["scale"] for row in results["full_model_over_naive"]] == [0.0005, 0.001]
    assert {row["preset"] for row in results["default_runs"]} == {"pfpp_joined_up", "siloed_baseline"}
    assert results["machine"]["python_loop_s"] > 0 and results["machine"]["numpy_normals_s"] > 0
    table = (tmp_path / "quick.md").read_text(encoding="utf-8")
    assert "| scale |" in table and "naive Mesa" in table and "full model / naive" in table
    assert f"Python loop {results['machine']['python_loop_s']:.3f} s" in table, "the machine's speed beside the figures"
    assert not list(tmp_path.glob("*.tmp")), "temporary files are renamed into place"


def test_benchmarks_module_lists_its_options():
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--help"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "--national" in done.stdout and "--quick" in done.stdout


def test_month_cpu_times_the_parts_of_a_month_and_put_the_model_back_as_it_was():
    from benchmarks import month_cpu

    before = [getattr(owner, name) for owner, name, _ in month_cpu.PARTS]
    spent, cpu, wall = month_cpu.measure(0.001, 3)
    assert [getattr(owner, name) for owner, name, _ in month_cpu.PARTS] == before, "every wrapped part is restored"
    timed = {label for _, _, label in month_cpu.PARTS}
    assert set(spent) <= timed and "households' step and outcome counts (block threads)" in spent
    assert wall > 0 and cpu > 0
    assert sum(spent.values()) <= cpu + 0.05, "parts are CPU time of the process's own threads"


def test_the_calibration_benchmark_records_the_commands_time_memory_and_held_out_scores(tmp_path):
    from benchmarks import calibration

    result = calibration.main(["--places", "E06000032", "--max-iterations", "1", "--replicates", "1", "--results", str(tmp_path)])
    assert result["command"] == "pfpp calibrate --places E06000032 --holdout-last-year --name bench --max-iterations 1 --replicates 1"
    assert result["places"] == 1 and result["moments"] == 7 and result["evaluations"] > 0
    assert result["holdout_evaluations"] > 0 and 0 < result["holdout_seconds"] < result["wall_seconds"]
    assert result["wall_seconds"] > 0 and result["peak_rss_bytes_largest_process"] > 50 * 2**20
    assert result["meets_target"] == (result["wall_seconds"] < 1200)
    assert {h["metric"] for h in result["holdout"]} == {"fuel_poverty_rate", "neet_16_17_rate"}
    assert json.loads((tmp_path / "calibration.json").read_text())["wall_seconds"] == result["wall_seconds"]
    md = (tmp_path / "calibration.md").read_text()
    assert md.count("\n| fuel_poverty_rate | 2021 | ") == 1 and md.count("\n| neet_16_17_rate | 2024 | ") == 1


def test_the_small_run_profile_times_each_phase_of_a_sweep_run_and_its_set_up_and_puts_the_model_back(tmp_path):
    from benchmarks import month_cpu, small_run
    from pfpp_sim import model as model_module
    from pfpp_sim.model import PfppModel

    def current():
        return [model_module.starting_population, *(vars(PfppModel)[name] for name in ("at_start", "_set_up", "run", "_run_in"))]

    before = current() + [getattr(owner, name) for owner, name, _ in month_cpu.PARTS]
    result = small_run.main(["--points", "2", "--repeats", "2", "--results", str(tmp_path)])
    assert current() + [getattr(owner, name) for owner, name, _ in month_cpu.PARTS] == before, "every wrapped function is restored"
    assert isinstance(vars(PfppModel)["at_start"], classmethod)
    medians, set_up = result["medians"], result["set_up"]
    assert result["runs"] == 4 and result["command"] == "python -m benchmarks.small_run --points 2 --repeats 2"
    phases = ["copying the kept set-up and starting the run", "the 60 months", "tables and the sweep's summary",
              "sending the result back (pickle)", "writing the run's Parquet file"]
    assert all(medians[p] > 0 for p in phases) and all(set_up[p] > 0 for p in small_run.SET_UP), (medians, set_up)
    assert medians["the 60 months"] > set_up["population"], "60 months cost more than building 14 places at 1:100"
    assert set_up["run-in"] > medians["copying the kept set-up and starting the run"], "copying the set-up is cheaper than the run-in"
    assert medians["bytes sent back"] > 0 and result["worker_start_s"] > 0 and len(result["worker_starts"]) == 2
    md = (tmp_path / "small_run.md").read_text()
    assert all(f"\n| {p} | " in md for p in [*phases, *small_run.SET_UP]) and "| households' step and outcome counts (block threads) | " in md
    assert f"NumPy float32 normals {result['machine']['numpy_normals_s']:.3f} s" in md
    assert json.loads((tmp_path / "small_run.json").read_text())["medians"] == medians
