"""Factors: what differs between two scenarios, how it is grouped, and every combination of it."""

from __future__ import annotations

import pickle
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfpp_sim import load_scenario
from pfpp_sim.errors import PfppError, ScenarioError
from pfpp_sim.factors import ABSENT, _merged_order, factor_set
from pfpp_sim.scenario import Scenario

NEW_PROGRAMME = """
name = "with_new_stream"
description = "A new stream before careers, and a larger home_upgrade budget."
extends = "siloed_baseline"

[levers]
carry_over = true

[programmes.home_upgrade]
budget = { value = 30, unit = "GBP/household/year", source = "assumption:programme_budget", low = 15, high = 60 }

[programmes.warm_homes]
department = "DESNZ"
description = "A second retrofit stream"
interventions = { retrofit = 1.0 }
budget = { value = 5, unit = "GBP/household/year", source = "assumption:programme_budget", low = 2, high = 10 }
budget_basis = "households"
competitive_share = 0.0
funding_period_months = 36
window_months = 2
award_lag = { value = 3, unit = "months", source = "assumption:award_lag", low = 1, high = 6 }
"""


@pytest.fixture(scope="module")
def base():
    return load_scenario("siloed_baseline")


def with_new_stream(tmp_path):
    path = tmp_path / "with_new_stream.toml"
    path.write_text(NEW_PROGRAMME, encoding="utf-8")
    return load_scenario(path)


def test_joined_up_differs_from_siloed_in_seven_levers(base):
    factors = factor_set(base, load_scenario("pfpp_joined_up"))
    assert factors.names == [
        "levers.pooling",
        "levers.timeline_alignment",
        "levers.carry_over",
        "levers.data_sharing",
        "levers.single_point_of_contact",
        "levers.secondments",
        "levers.local_priority_weight",
    ]
    assert factors.factors[0].changes == (("levers.pooling", 0.0, 1.0),)


def test_no_combination_is_the_base_and_all_of_them_are_the_alternative(base, tmp_path):
    for alternative in (load_scenario("pfpp_joined_up"), with_new_stream(tmp_path)):
        factors = factor_set(base, alternative)
        assert factors.combination(0).scenario_hash() == base.scenario_hash()
        assert factors.combination((1 << len(factors.factors)) - 1).scenario_hash() == alternative.scenario_hash()
        # Named as the scenarios they are, or as a combination of the base.
        full = (1 << len(factors.factors)) - 1
        assert [factors.combination(mask).name for mask in (0, 1, full)] == [base.name, f"{base.name}_combination_1", alternative.name]
        assert factors.combination(1).extends == base.extends


def test_a_combination_takes_the_alternatives_values_of_its_factors_only(base):
    factors = factor_set(base, load_scenario("pfpp_joined_up"))
    mixed = factors.combination(0b101)  # pooling and carry_over
    assert (mixed.levers.pooling, mixed.levers.carry_over) == (1.0, True)
    assert (mixed.levers.timeline_alignment, mixed.levers.data_sharing) == (False, 0.0)
    assert factors.label(0b101) == "levers.pooling + levers.carry_over" and factors.label(0) == "none"


def test_a_programme_only_one_scenario_runs_is_one_factor_and_keeps_its_place(base, tmp_path):
    alternative = with_new_stream(tmp_path)
    factors = factor_set(base, alternative)
    assert factors.names == ["levers.carry_over", "programmes.home_upgrade", "programmes.warm_homes"]
    warm = factors.factors[2]
    assert all(b is ABSENT for _, b, _ in warm.changes) and len(warm.changes) > 5
    assert "warm_homes" not in factors.combination(0b011).programmes
    assert list(factors.combination(0b100).programmes) == list(alternative.programmes)
    # and the other way round: a programme the alternative drops
    back = factor_set(alternative, base)
    assert "warm_homes" not in back.combination(0b100).programmes


def test_a_factor_set_sent_to_a_worker_process_still_builds_the_base_without_the_new_programme(base, tmp_path):
    factors = pickle.loads(pickle.dumps(factor_set(base, with_new_stream(tmp_path))))  # as a process executor sends it
    assert "warm_homes" not in factors.combination(0).programmes
    assert factors.combination(0).scenario_hash() == base.scenario_hash()


def test_the_analysts_own_sources_are_not_factors_and_each_combination_carries_those_it_cites(base, tmp_path):
    path = tmp_path / "audited.toml"
    path.write_text(
        'name = "audited"\ndescription = "d"\nextends = "siloed_baseline"\n[levers]\ncarry_over = true\n'
        '[user_sources.hub_audit]\ndescription = "Recovery share after our course"\nreference = "hub audit 2023"\n'
        '[interventions.mh_hub]\neffect = { value = 0.25, unit = "probability", source = "user:hub_audit", low = 0.15, high = 0.35 }\n',
        encoding="utf-8",
    )
    audited = load_scenario(path)
    factors = factor_set(base, audited)
    assert factors.names == ["levers.carry_over", "interventions.mh_hub.effect"]
    assert factors.combination(0).scenario_hash() == base.scenario_hash()
    assert factors.combination(0b11).scenario_hash() == audited.scenario_hash()
    assert factors.combination(0b10).user_sources == audited.user_sources


def test_a_sourced_quantity_is_one_factor_with_its_value_range_and_source(base):
    alternative = base.with_overrides({"mechanisms.bid_cost.value": 30000.0, "world.households.band_cost.C.value": 0.8})
    factors = factor_set(base, alternative)
    assert factors.names == ["world.households.band_cost.C", "mechanisms.bid_cost"]
    changed = {path for path, _, _ in factors.factors[1].changes}
    assert "mechanisms.bid_cost.value" in changed


def test_groups_make_one_factor_of_everything_under_a_prefix(base):
    alternative = load_scenario("pfpp_joined_up").with_overrides({"mechanisms.bid_cost.value": 30000.0, "mechanisms.trust_gain.value": 0.2})
    factors = factor_set(base, alternative, groups=["levers", "mechanisms"])
    assert factors.names == ["levers", "mechanisms"]
    assert len(factors.factors[0].changes) == 7


def test_a_named_group_identical_in_both_is_a_factor_that_changes_nothing(base):
    alternative = base.with_overrides({"levers.carry_over": True})
    factors = factor_set(base, alternative, groups=["levers.pooling"])
    assert factors.names == ["levers.carry_over", "levers.pooling"]
    assert factors.factors[1].changes == ()
    assert factors.combination(0b10).scenario_hash() == base.scenario_hash()


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ({"run.places": ["E07000062"]}, "run.places"),
        ({"run.horizon_months": 24}, "run.horizon_months"),
        ({"run.start": "2022-04"}, "run.start"),
        ({"run.scale": 0.02}, "run.scale"),
    ],
    ids=["places", "horizon", "start", "scale"],
)
def test_scenarios_with_other_run_settings_are_refused_naming_the_key_and_both_values(base, override, key):
    alternative = base.with_overrides({**override, "levers.carry_over": True}, name="other")
    with pytest.raises(ScenarioError) as err:
        factor_set(base, alternative)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"<explain other vs siloed_baseline>: {key} = ")
    assert "the same run settings in both" in message and f"siloed_baseline has {key} = " in message


def test_scenarios_with_another_calibration_are_refused(base):
    uncalibrated = base.model_dump()
    uncalibrated.update(calibration=None, name="uncalibrated")
    from pfpp_sim.scenario import Scenario

    with pytest.raises(ScenarioError, match=r"calibration = .none.: the same calibration in both .*; siloed_baseline has calibration = .england \(fitted .*\).$"):
        factor_set(base, Scenario.model_validate(uncalibrated))


def test_nothing_to_explain_when_nothing_differs_but_the_name(base):
    with pytest.raises(PfppError, match="nothing to explain: copy and siloed_baseline have the same levers"):
        factor_set(base, base.with_overrides({}, name="copy"))


def test_a_group_that_is_not_a_key_path_is_refused(base):
    with pytest.raises(ScenarioError, match=r"--factors = 'levers.poolling': a key path of the scenarios under levers"):
        factor_set(base, load_scenario("pfpp_joined_up"), groups=["levers.poolling"])
    with pytest.raises(ScenarioError, match=r"--factors = 'run'"):
        factor_set(base, load_scenario("pfpp_joined_up"), groups=["run"])


def test_programmes_in_another_order_are_refused_naming_the_table(base):
    data = base.model_dump()
    data["programmes"] = dict(reversed(list(data["programmes"].items())))
    data["name"] = "reordered"
    from pfpp_sim.scenario import Scenario

    last = list(data["programmes"])[0]
    with pytest.raises(ScenarioError, match=rf"programmes = \['{last}'.*order can change results"):
        factor_set(base, Scenario.model_validate(data))


def test_a_combination_that_is_not_a_valid_scenario_names_its_factors_the_key_and_why(base, tmp_path):
    factors = factor_set(base, with_new_stream(tmp_path), groups=["programmes.warm_homes.budget"])
    with pytest.raises(ScenarioError) as err:
        factors.combination(1 << factors.names.index("programmes.warm_homes.budget"))
    message = str(err.value)
    assert message.startswith("<siloed_baseline with with_new_stream's programmes.warm_homes.budget>: programmes.warm_homes.department = ")
    assert message.endswith(": a value (required key is missing)")


@st.composite
def two_orders(draw):
    """Two lists of keys whose shared keys come in the same order (as two scenarios' tables must)."""
    keys = draw(st.lists(st.integers(0, 40), unique=True, max_size=12))
    in_first = draw(st.lists(st.booleans(), min_size=len(keys), max_size=len(keys)))
    in_second = draw(st.lists(st.booleans(), min_size=len(keys), max_size=len(keys)))
    return [(k,) for k, b in zip(keys, in_first) if b], [(k,) for k, b in zip(keys, in_second) if b]


@given(two_orders())
def test_merged_keys_hold_each_key_once_in_the_order_of_both_scenarios(orders):
    first, second = orders
    merged = _merged_order(first, second)
    assert sorted(merged) == sorted(set(first) | set(second))
    assert [k for k in merged if k in set(first)] == first and [k for k in merged if k in set(second)] == second


def test_a_key_only_the_base_has_comes_right_after_the_key_before_it_there():
    assert _merged_order([("a",), ("b",), ("c",), ("d",)], [("a",), ("c",)]) == [("a",), ("b",), ("c",), ("d",)]
    assert _merged_order([("x",), ("y",), ("a",)], [("a",), ("z",)]) == [("x",), ("y",), ("a",), ("z",)]


def test_a_group_naming_a_programme_only_the_base_runs_is_one_factor(base, tmp_path):
    factors = factor_set(with_new_stream(tmp_path), base, groups=["programmes.warm_homes"])
    assert factors.names == ["levers.carry_over", "programmes.home_upgrade", "programmes.warm_homes"]
    shown = factors.factors[2].as_dict()["changes"]
    assert shown and all(change["alternative"] == "(absent)" for change in shown.values())
    assert repr(ABSENT) == "absent"


def test_refusals_name_the_comparison_they_come_from(base):
    source = "<explain pfpp_joined_up vs siloed_baseline>"
    with pytest.raises(ScenarioError, match=rf"^{re.escape(source)}: --factors = 'levers.poolling': a key path of the scenarios under levers, world, mechanisms, interventions, programmes$"):
        factor_set(base, load_scenario("pfpp_joined_up"), groups=["levers.poolling"])
    data = base.model_dump()
    data.update(programmes=dict(reversed(list(data["programmes"].items()))), name="reordered")
    first, *_, last = list(base.programmes)
    with pytest.raises(ScenarioError, match=rf"^<explain reordered vs siloed_baseline>: programmes = \['{last}'.*: the keys shared with siloed_baseline in its order \({first}, .*, {last}\)"):
        factor_set(base, Scenario.model_validate(data))


def test_a_nested_table_in_another_order_is_refused_naming_its_key_path(base):
    data = base.model_dump()
    shares = data["programmes"]["household_support"]["interventions"]
    data["programmes"]["household_support"]["interventions"] = dict(reversed(list(shares.items())))
    data["name"] = "reordered"
    expected = r"programmes.household_support.interventions = \['bill_support', 'income_advice'\]: the keys shared with siloed_baseline in its order \(income_advice, bill_support\)"
    with pytest.raises(ScenarioError, match=rf"^<explain reordered vs siloed_baseline>: {expected}"):
        factor_set(base, Scenario.model_validate(data))


def test_the_calibration_refusal_names_both_fits(base):
    other = base.model_dump()
    other.update(name="other", calibration={**other["calibration"], "fitted_on": "2020-01-01"})
    with pytest.raises(ScenarioError, match=r"calibration = 'england \(fitted 2020-01-01\)': the same calibration in both .*; siloed_baseline has calibration = 'england \(fitted "):
        factor_set(base, Scenario.model_validate(other))


def test_as_many_factors_as_the_limit_are_allowed_and_one_more_is_refused(base):
    alternative = load_scenario("pfpp_joined_up")
    assert len(factor_set(base, alternative, limit=7).factors) == 7
    with pytest.raises(PfppError, match=r"^7 factors differ between pfpp_joined_up and siloed_baseline, more than 6: group them by key prefix with --factors \(e.g. --factors world,mechanisms\)$"):
        factor_set(base, alternative, limit=6)


def test_a_combination_extends_what_the_base_extends_and_cites_the_sources_of_the_values_it_takes(tmp_path):
    def audited(name, key, lever):
        path = tmp_path / f"{name}.toml"
        path.write_text(
            f'name = "{name}"\ndescription = "d"\nextends = "siloed_baseline"\n[levers]\n{lever} = true\n'
            f'[user_sources.{key}]\ndescription = "d"\nreference = "r"\n'
            f'[interventions.mh_hub]\neffect = {{ value = 0.25, unit = "probability", source = "user:{key}", low = 0.15, high = 0.35 }}\n'
            f'[mechanisms.bid_cost]\nvalue = 20000\nunit = "GBP"\nsource = "user:{key}"\n',
            encoding="utf-8",
        )
        return load_scenario(path)

    first, second = audited("first", "audit_a", "carry_over"), audited("second", "audit_b", "secondments")
    factors = factor_set(first, second)
    full = (1 << len(factors.factors)) - 1
    assert factors.combination(0).extends == factors.combination(full).extends == first.extends == "siloed_baseline"
    assert set(factors.combination(0).user_sources) == {"audit_a"} and set(factors.combination(full).user_sources) == {"audit_b"}
    mix = 1 << factors.names.index("interventions.mh_hub.effect")
    assert set(factors.combination(mix).user_sources) == {"audit_a", "audit_b"}


def test_a_combination_refused_for_a_bad_value_names_the_value_and_why(base):
    alternative = base.with_overrides({"levers.carry_over": True, "levers.pooling": 0.5})
    factors = factor_set(base, alternative)
    bad = factors.leaves[[i for i, leaf in enumerate(factors.leaves) if leaf[0] == ("levers", "pooling")][0]]
    leaves = list(factors.leaves)
    leaves[leaves.index(bad)] = (bad[0], bad[1], 7.0, bad[3])  # an alternative value out of the lever's range
    broken = type(factors)(factors.base, factors.alternative, factors.factors, tuple(leaves))
    with pytest.raises(ScenarioError, match=r": levers.pooling = 7.0: Input should be less than or equal to 1"):
        broken.combination(1 << factors.names.index("levers.pooling"))
