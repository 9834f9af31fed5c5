"""The benchmarks run and their naive reference agrees with the model's rule (no timing checks)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np

from benchmarks.naive_mesa import rule_parameters, run_naive, run_vectorised, sample_households

ROOT = Path(__file__).resolve().parents[1]


def test_naive_mesa_and_vectorised_rules_give_the_same_fuel_poverty_rate_within_monte_carlo_error():
    params = rule_parameters()
    households = sample_households(2_000, params, seed=3)
    naive = run_naive(households, params, 12, seed=3)
    vectorised = run_vectorised(households, params, 12, seed=3)
    rate = naive.rates.mean()
    assert 0.02 < rate < 0.5, "the sample should have a measurable fuel-poverty rate"
    se = math.sqrt(2 * rate * (1 - rate) / households.n)  # difference of two independent rates
    assert abs(vectorised.rates.mean() - naive.rates.mean()) < 4 * se
    assert abs(vectorised.rates[-1] - naive.rates[-1]) < 4 * se
    assert not np.array_equal(naive.rates, vectorised.rates), "independent random draws, not a copy"


def test_quick_benchmarks_write_valid_json_and_a_markdown_table(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "quick.json").read_text(encoding="utf-8"))
    assert results["mode"] == "quick"
    assert [row["scale"] for row in results["model_throughput"]] == [0.001, 0.01]
    for row in results["model_throughput"]:
        assert row["households"] > 0 and row["young_people"] > 0
        assert row["resident_steps_per_second"] > 0 and row["peak_bytes_per_resident"] > 0
    assert {row["preset"] for row in results["default_runs"]} == {"pfpp_joined_up", "siloed_baseline"}
    assert results["household_rule"]["households"] == 2_000
    assert results["household_rule"]["rates_agree"] is True
    table = (tmp_path / "quick.md").read_text(encoding="utf-8")
    assert "| scale |" in table and "naive Mesa" in table
    assert not list(tmp_path.glob("*.tmp")), "temporary files are renamed into place"
