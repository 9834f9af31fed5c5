"""Sourced quantities: how a replicate draws them, and how a scenario's are listed by key path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pfpp_sim import load_scenario
from pfpp_sim.evidence import Sourced, assumed_parameters, calibrated_parameters, is_assumption, is_calibrated, sourced_parameters


def test_evidence_with_a_published_range_is_drawn_from_a_triangular_distribution_over_it():
    share = Sourced(value=0.3, unit="probability", source="E26", low=0.1, high=0.4)
    drawn = share.draw(np.random.default_rng(5))
    assert type(drawn) is float and drawn == np.random.default_rng(5).triangular(0.1, 0.3, 0.4)
    rng = np.random.default_rng(6)
    draws = np.array([share.draw(rng) for _ in range(4000)])
    assert draws.min() >= 0.1 and draws.max() <= 0.4
    assert draws.mean() == pytest.approx((0.1 + 0.3 + 0.4) / 3, abs=0.005), "the mode is the published value"


@pytest.mark.parametrize(
    "quantity",
    [
        Sourced(value=5.0, unit="months", source="E26"),
        Sourced(value=5.0, unit="months", source="E26", low=5.0, high=5.0),
        Sourced(value=5.0, unit="months", source="assumption:trend_damping", low=2.0, high=9.0),
        Sourced(value=5.0, unit="months", source="user:our_survey", low=2.0, high=9.0),
        Sourced(value=5.0, unit="months", source="calibrated:england", low=2.0, high=9.0),
    ],
    ids=["no range", "zero width", "assumption", "analysts own", "calibrated"],
)
def test_a_value_without_a_published_range_is_used_as_it_is_and_draws_no_number(quantity):
    rng = np.random.default_rng(7)
    state = rng.bit_generator.state
    assert quantity.draw(rng) == 5.0
    assert rng.bit_generator.state == state, "the replicate's other draws are not shifted"


def test_a_scenarios_sourced_values_are_listed_by_key_path_in_its_order():
    scenario = load_scenario("siloed_baseline")
    listed = sourced_parameters(scenario)
    paths = [path for path, _ in listed]
    assert paths[0].startswith("world.") and len(paths) == len(set(paths))
    assert "world.households.band_cost.D" in paths
    assert "programmes.home_upgrade.budget" in paths, "the values of a table of programmes, by key"
    assert dict(listed)["mechanisms.reporting_cost"] is scenario.mechanisms.reporting_cost
    calibrated = calibrated_parameters(scenario)
    assert calibrated == [(path, value) for path, value in listed if is_calibrated(value.source)]
    assert dict(calibrated)["world.young_people.neet_scarring"].source == "calibrated:england"
    assumed = assumed_parameters(scenario)
    assert assumed == [(path, value) for path, value in listed if is_assumption(value.source)]
    assert "mechanisms.reporting_cost" in dict(assumed) and not set(dict(assumed)) & set(dict(calibrated))


def test_the_evidence_keys_are_the_keys_of_every_row_of_the_vendored_evidence_table():
    from pfpp_sim import evidence

    text = (Path(evidence.__file__).parent / "data" / "EVIDENCE.md").read_text(encoding="utf-8")
    rows = {cells[1].strip() for cells in (line.split("|") for line in text.splitlines()) if len(cells) > 2 and cells[0] == ""}
    keys = {key for key in rows if len(key) == 3 and key[0] == "E" and key[1:].isdigit()}
    assert len(keys) > 50 and {"E01", "E20", "E87"} <= keys
    assert evidence._evidence_keys() == evidence.EVIDENCE_KEYS == keys


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"source": "a survey"}, "expected an EVIDENCE key like 'E26', 'derived:E51,E52', 'assumption:<name>' or 'user:<KEY>'"),
        ({"source": "E26+E00"}, "unknown EVIDENCE key(s) ['E00']"),
        ({"source": "assumption:no_such_rule", "low": 1.0, "high": 9.0}, "assumption 'no_such_rule' is not in the assumptions registry (pfpp_sim/evidence.py)"),
        ({"low": 1.0}, "give both low and high, or neither"),
        ({"high": 9.0}, "give both low and high, or neither"),
        ({"low": 6.0, "high": 9.0}, "expected low <= value <= high, got 6.0 <= 5.0 <= 9.0"),
        ({"unit": "fraction", "value": 0.5, "low": 0.1, "high": 1.5}, "expected at most 1 for a quantity in 'fraction', got 1.5"),
    ],
    ids=["not a key", "unknown key", "unregistered assumption", "low only", "high only", "outside range", "above the unit's most"],
)
def test_a_quantity_that_cannot_be_sourced_is_refused_with_what_is_wrong(fields, message):
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as refused:
        Sourced(**{"value": 5.0, "unit": "months", "source": "E26", **fields})
    assert [str(error["ctx"]["error"]) for error in refused.value.errors()] == [message]
