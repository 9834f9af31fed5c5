"""The Luton and Bradford pilot presets: what each changes, and that it moves its own outcome the way its comment says.

Given the preset and ``siloed_baseline`` over the preset's place and the PfPP period (24
months from April 2021) at full scale, on the same seeds (common random numbers), expect
the paired 95% CI of the difference in the outcome the pilot acts on to lie below zero.
The effects are small (a grant of about GBP 125,000 a year beside a place's streams), so
the replicate counts are what makes the CI exclude zero: about 3.5 to 4 standard errors.
"""

from __future__ import annotations

import pytest

from pfpp_sim import compare, load_scenario
from pfpp_sim.data import places
from pfpp_sim.factors import factor_set

PILOTS = {
    # preset: (place, its name, the outcome the pilot acts on, replicates)
    "luton_asb": ("E06000032", "Luton", "neet_16_24_rate", 40),
    "bradford_youth_mh": ("E08000032", "Bradford", "youth_mh_rate", 20),
}
PFPP_PERIOD = {"run.horizon_months": 24, "run.scale": 1.0}
"""April 2021 to March 2023 (EVIDENCE E04), at full scale."""


def baseline_like(pilot):
    """``siloed_baseline`` over the pilot's place."""
    return load_scenario("siloed_baseline").with_overrides({"run.places": pilot.run.places})


@pytest.mark.parametrize("name", PILOTS)
def test_a_pilot_preset_runs_its_place_with_the_baselines_other_run_settings(name):
    code, place_name, _, _ = PILOTS[name]
    pilot, baseline = load_scenario(name), load_scenario("siloed_baseline")
    assert pilot.run.places == [code] and places([code])["area_name"].tolist() == [place_name]
    assert pilot.run.model_dump(exclude={"places"}) == baseline.run.model_dump(exclude={"places"}), "it compares with the baseline"


@pytest.mark.parametrize(("name", "intervention"), [("luton_asb", "asb_outreach"), ("bradford_youth_mh", "mh_hub")])
def test_a_pilot_preset_changes_only_the_pfpp_support_and_a_grant_for_its_intervention(name, intervention):
    pilot = load_scenario(name)
    factors = factor_set(baseline_like(pilot), pilot)
    assert factors.names == ["levers.senior_contact", "levers.funding_mapping", "programmes.pfpp_grant"]
    grant = pilot.programmes["pfpp_grant"]
    assert (grant.department, grant.interventions, grant.rounds, grant.funding_period_months) == ("MHCLG", {intervention: 1.0}, 1, 24)
    assert (grant.budget.low, grant.budget.value, grant.budget.high) == (75000, 125000, 175000), "GBP 150,000-350,000 over two years (E02)"


@pytest.mark.parametrize("name", PILOTS)
def test_a_pilot_preset_lowers_the_outcome_its_pilot_acts_on(name):
    code, _, metric, replicates = PILOTS[name]
    pilot = load_scenario(name).with_overrides(PFPP_PERIOD)
    result = compare(baseline_like(pilot).with_overrides(PFPP_PERIOD), pilot, seed=0, replicates=replicates, executor="serial")
    row = result.comparison.set_index(["place_code", "metric"]).loc[(code, metric)]
    assert row["ci_high"] < 0, f"{name}: {metric} {row['difference']:.2e} (95% CI {row['ci_low']:.2e} to {row['ci_high']:.2e})"
