"""Sampled worlds: what is sampled, how a design is drawn, how a world is applied, what is refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pfpp_sim import load_scenario
from pfpp_sim.errors import ScenarioError
from pfpp_sim.evidence import assumed_parameters, is_assumption, is_calibrated, sourced_parameters
from pfpp_sim.scenario import Scenario
from pfpp_sim.worlds import Factor, Space, apply_world, check_comparable, check_samples, sample, uncertainty_space

RANGES = {
    "world.young_people.neet_exit_hazard.low": 0.06,
    "world.young_people.neet_exit_hazard.high": 0.18,
    "mechanisms.reporting_cost.low": 4000.0,
    "mechanisms.reporting_cost.high": 16000.0,
}


@pytest.fixture(scope="module")
def pair():
    return (load_scenario("siloed_baseline").with_overrides(RANGES), load_scenario("pfpp_joined_up").with_overrides(RANGES))


def ranged(scenario, keep) -> list[str]:
    return [path for path, v in sourced_parameters(scenario) if keep(v) and v.low is not None and v.low < v.high]


def test_the_space_lists_exactly_the_assumptions_that_carry_a_range(pair):
    base, alternative = pair
    space = uncertainty_space(base, alternative)
    expected = [path for path, v in assumed_parameters(base) if v.low is not None and v.low < v.high]
    assert space.names == expected
    assert {"world.young_people.neet_exit_hazard", "mechanisms.reporting_cost"} <= set(space.names)
    assert "world.young_people.cold_home_odds_ratio" not in space.names, "evidence is drawn per replicate unless asked"
    assert all(is_assumption(f.source) and f.low < f.high for f in space.factors)
    factor = next(f for f in space.factors if f.path == "mechanisms.reporting_cost")
    assert (factor.value, factor.low, factor.high, factor.unit) == (8000.0, 4000.0, 16000.0, "GBP/grant/year")
    assert space.not_sampled == (("world.households.band_cost.D", "its range has zero width"),), "band D is the reference, 1 by definition"


def with_own_source(scenario: Scenario) -> Scenario:
    """The scenario with the hub's effect cited from the analyst's own source, with a range."""
    data = scenario.model_dump(mode="python")
    data["user_sources"] = {"hub_audit": {"description": "Recovery share after our hub's course", "reference": "Bradford hubs audit 2023"}}
    data["interventions"]["mh_hub"]["effect"] = {"value": 0.25, "unit": "probability", "source": "user:hub_audit", "low": 0.15, "high": 0.35}
    return Scenario.model_validate(data)


def test_a_value_citing_the_analysts_own_source_is_sampled_like_an_assumption(pair):
    base, alternative = pair
    space = uncertainty_space(with_own_source(base), with_own_source(alternative))
    factor = next(f for f in space.factors if f.path == "interventions.mh_hub.effect")
    assert (factor.source, factor.value, factor.low, factor.high) == ("user:hub_audit", 0.25, 0.15, 0.35)
    assert "interventions.mh_hub.effect" not in uncertainty_space(base, alternative).names, "evidence (E51, E52) without a range"


def test_include_evidence_adds_every_evidence_value_with_a_published_range_and_no_calibrated_one(pair):
    base, alternative = pair
    space = uncertainty_space(base, alternative, include_evidence=True)
    evidence = ranged(base, lambda v: not is_assumption(v.source) and not is_calibrated(v.source))
    assert "world.young_people.cold_home_odds_ratio" in evidence
    assert set(space.names) == set(uncertainty_space(base, alternative).names) | set(evidence)
    calibrated = {path for path, v in sourced_parameters(base) if is_calibrated(v.source)}
    assert calibrated and not calibrated & set(space.names)
    pointed = {path for path, v in sourced_parameters(base) if v.low is None}
    assert pointed and not pointed & set(dict(space.not_sampled)), "a value with no range is neither sampled nor listed"


def test_a_value_the_alternative_sets_differently_is_not_sampled_and_says_why(pair):
    base, _ = pair
    alternative = load_scenario("pfpp_joined_up").with_overrides(
        {**RANGES, "world.young_people.neet_exit_hazard.value": 0.1, "mechanisms.bid_cost.value": 20000.0,
         "mechanisms.trust_gain.low": 0.0, "mechanisms.trust_gain.high": 1.0}
    )
    space = uncertainty_space(base, alternative)
    reasons = dict(space.not_sampled)
    assert "world.young_people.neet_exit_hazard" not in space.names
    assert reasons["world.young_people.neet_exit_hazard"].startswith("pfpp_joined_up sets it differently (0.1 probability/month")
    assert "mechanisms.reporting_cost" in space.names
    assert reasons["mechanisms.trust_gain"].startswith("pfpp_joined_up sets it differently (0.03 fraction of gap/month"), "another range"
    assert "mechanisms.bid_cost" not in reasons, "evidence without --include-evidence is neither sampled nor listed"


def test_a_quantity_the_alternative_does_not_have_is_not_sampled_and_says_why(pair):
    base, alternative = pair
    data = alternative.model_dump(mode="python")
    del data["programmes"]["safer_streets"]  # the alternative runs without the programme, and so without its budget
    space = uncertainty_space(base, Scenario.model_validate(data))
    reasons = dict(space.not_sampled)
    assert reasons["programmes.safer_streets.budget"] == "pfpp_joined_up does not have it: only siloed_baseline runs with it"
    assert "programmes.safer_streets.budget" not in space.names
    assert "programmes.careers.budget" in space.names, "the programmes both run are sampled"


def test_a_range_of_zero_width_is_not_sampled(pair):
    base, alternative = (sc.with_overrides({"mechanisms.reporting_cost.low": 8000.0, "mechanisms.reporting_cost.high": 8000.0}) for sc in pair)
    space = uncertainty_space(base, alternative)
    assert "mechanisms.reporting_cost" not in space.names
    assert dict(space.not_sampled)["mechanisms.reporting_cost"] == "its range has zero width"


SPACE = Space((Factor("a.b", "fraction", "assumption:trust", 0.5, 0.0, 1.0), Factor("c", "months", "assumption:award_lag", 3.0, 1.0, 9.0),
               Factor("d", "GBP", "assumption:ips_cost", 100.0, 50.0, 400.0)))


@pytest.mark.parametrize(("design", "n", "worlds"), [("lhs", 8, 8), ("sobol", 8, 8 * (3 + 2)), ("morris", 4, 4 * (3 + 1))])
def test_a_design_is_the_default_world_then_the_sampled_worlds_within_their_ranges(design, n, worlds):
    table = sample(SPACE, n, 0, design=design)
    assert list(table.columns) == ["world", "sampled", "a.b", "c", "d"]
    assert list(table["world"]) == list(range(worlds + 1))
    assert list(table["sampled"]) == [False] + [True] * worlds
    assert table.iloc[0][["a.b", "c", "d"]].tolist() == [0.5, 3.0, 100.0]
    for f in SPACE.factors:
        assert table.loc[1:, f.path].between(f.low, f.high).all()


def test_a_latin_hypercube_puts_one_world_in_each_slice_of_every_range():
    table = sample(SPACE, 10, 4).iloc[1:]
    for f in SPACE.factors:
        slices = np.floor((table[f.path] - f.low) / (f.high - f.low) * 10)
        assert sorted(slices) == list(range(10))


def test_the_same_seed_gives_the_same_worlds_and_another_seed_does_not():
    assert sample(SPACE, 6, 0).equals(sample(SPACE, 6, 0))
    assert not sample(SPACE, 6, 0).equals(sample(SPACE, 6, 1))


def test_a_world_sets_each_sampled_value_alike_in_both_scenarios_and_keeps_the_levers(pair):
    base, alternative = pair
    space = uncertainty_space(base, alternative)
    row = sample(space, 3, 2).iloc[2]
    values = {path: row[path] for path in space.names}
    in_base, in_alternative = (dict(sourced_parameters(sc)) for sc in apply_world(base, alternative, values))
    for f in space.factors:
        for world in (in_base, in_alternative):
            assert world[f.path].value == values[f.path] and world[f.path].low == world[f.path].high == values[f.path]
            assert world[f.path].source == f.source
    assert values["mechanisms.reporting_cost"] != 8000.0
    assert apply_world(base, alternative, values)[1].levers == alternative.levers
    assert apply_world(base, alternative, {}) == (base, alternative)


@pytest.mark.parametrize(
    ("override", "key", "shown"),
    [
        ({"run.places": ["E07000062"]}, "run.places", "['E07000062']"),
        ({"run.horizon_months": 24}, "run.horizon_months", "24"),
        ({"run.start": "2022-04"}, "run.start", "'2022-04'"),
        ({"run.scale": 0.005}, "run.scale", "0.005"),
    ],
)
def test_scenarios_over_other_places_months_or_scale_are_refused_naming_the_setting(pair, override, key, shown):
    base, alternative = pair
    with pytest.raises(ScenarioError) as info:
        check_comparable(base, alternative.with_overrides(override), base_label="siloed_baseline", alternative_label="alt.toml")
    message = str(info.value)
    assert message.startswith(f"alt.toml: {key} = {shown}: the same as in siloed_baseline (")
    assert "\n" not in message


def test_scenarios_with_another_calibration_are_refused(pair):
    base, alternative = pair
    uncalibrated = alternative.model_copy(update={"calibration": None})
    with pytest.raises(ScenarioError, match=r"^alt.toml: calibration = 'none': the same calibration as base \(england\)"):
        check_comparable(base, uncalibrated, base_label="base", alternative_label="alt.toml")


@pytest.mark.parametrize(
    ("n", "design", "space", "message"),
    [
        (0, "lhs", SPACE, "robustness: samples = 0: a whole number of at least 1"),
        (-4, "lhs", SPACE, "robustness: samples = -4: a whole number of at least 1"),
        (100, "sobol", SPACE, "robustness: samples = 100: a power of two for the sobol design (e.g. 64 or 128)"),
        (1, "morris", SPACE, "robustness: samples = 1: at least 2 trajectories for the morris design"),
        (8, "grid", SPACE, "robustness: design = 'grid': one of lhs, sobol, morris"),
        (8, "lhs", Space(()), "robustness: assumptions = 0: at least one assumption of the base scenario with a low/high range"),
    ],
)
def test_a_design_that_cannot_be_drawn_is_refused_naming_the_option_and_value(n, design, space, message):
    with pytest.raises(ScenarioError) as info:
        check_samples(space, n, design)
    assert str(info.value).startswith(message)


def test_a_refusal_shows_a_long_setting_of_the_base_cut_to_60_characters_and_a_short_one_whole(pair):
    base, alternative = pair
    several = ["E07000062", "E06000032", "E07000062", "E06000032", "E07000062", "E06000032"]
    with pytest.raises(ScenarioError) as info:
        check_comparable(base.with_overrides({"run.places": several}), alternative, base_label="base", alternative_label="alt.toml")
    shown = repr(several)
    assert len(shown) > 60 and f"the same as in base ({shown[:57]}...): robustness runs both" in str(info.value)
    with pytest.raises(ScenarioError) as info:
        check_comparable(base, alternative.with_overrides({"run.horizon_months": 24}), base_label="base", alternative_label="alt.toml")
    assert f"the same as in base ({base.run.horizon_months!r}): robustness runs both" in str(info.value)


def test_a_space_written_to_a_manifest_reads_back_the_same(pair):
    space = uncertainty_space(*pair)
    assert space.factors and space.not_sampled
    assert Space.from_json(json.loads(json.dumps(space.to_json()))) == space


def test_a_space_that_samples_evidence_says_so_and_reads_back_so(pair):
    space = uncertainty_space(*pair, include_evidence=True)
    assert space.include_evidence and not uncertainty_space(*pair).include_evidence
    assert Space.from_json(json.loads(json.dumps(space.to_json()))) == space


def test_a_range_only_the_alternative_gives_is_not_sampled_and_says_why(pair, tmp_path):
    base, _ = pair
    (tmp_path / "alt.toml").write_text(
        'name = "alt"\nextends = "pfpp_joined_up"\n'
        '[user_sources.income_survey]\ndescription = "Our income survey"\nreference = "Survey 2024"\nrange_reason = "its 90% interval"\n'
        '[world.households]\nmedian_income = { value = 24752.0, unit = "GBP/year (FYE 2020)", source = "user:income_survey", '
        "low = 22000.0, high = 27000.0 }\n",
        encoding="utf-8",
    )
    alternative = load_scenario(tmp_path / "alt.toml").with_overrides(RANGES)
    space = uncertainty_space(base, alternative)
    assert "world.households.median_income" not in space.names
    assert dict(space.not_sampled)["world.households.median_income"] == "only alt gives it a range: each scenario keeps its own value"


def test_a_refusal_shows_a_setting_of_60_characters_whole():
    from pfpp_sim.worlds import _short

    sixty = "x" * 58
    assert len(repr(sixty)) == 60 and _short(sixty) == repr(sixty)
    assert _short(sixty + "y") == repr(sixty + "y")[:57] + "..."


def test_another_calibration_than_none_is_named_in_the_refusal(pair):
    base, alternative = pair
    uncalibrated = base.model_copy(update={"calibration": None})
    with pytest.raises(ScenarioError, match=r"^alt.toml: calibration = 'england': the same calibration as base \(none\)"):
        check_comparable(uncalibrated, alternative, base_label="base", alternative_label="alt.toml")


@pytest.mark.parametrize(("n", "design"), [(True, "lhs"), (2.5, "lhs"), (np.float64(8.0), "lhs")])
def test_samples_that_are_not_a_whole_number_are_refused(n, design):
    with pytest.raises(ScenarioError, match="a whole number of at least 1"):
        check_samples(SPACE, n, design)


@pytest.mark.parametrize(("n", "design"), [(1, "sobol"), (2, "sobol"), (64, "sobol"), (2, "morris"), (np.int64(3), "lhs")])
def test_the_smallest_designs_of_each_kind_are_drawn(n, design):
    check_samples(SPACE, n, design)


def test_a_space_with_nothing_to_sample_names_what_it_left_out():
    left_out = Space((), (("mechanisms.bid_cost", "its range has zero width"), ("world.a", "alt sets it differently")))
    with pytest.raises(ScenarioError) as info:
        check_samples(left_out, 8, "lhs")
    assert str(info.value).endswith("with a low/high range to sample; not sampled: mechanisms.bid_cost, world.a")
    with pytest.raises(ScenarioError) as info:
        check_samples(Space(()), 8, "lhs")
    assert str(info.value).endswith("with a low/high range to sample")


def test_a_design_is_numbered_from_0_in_its_index_too():
    table = sample(SPACE, 8, 1)
    assert list(table.index) == list(range(9)) and list(table["world"]) == list(range(9))
