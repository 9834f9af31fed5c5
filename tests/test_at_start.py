"""A model's set-up before month 0, kept once per process: each run steps a copy started with its own levers."""

from __future__ import annotations

import numpy as np
import pytest

from pfpp_sim import model as model_module
from pfpp_sim import residents as residents_module
from pfpp_sim import starting
from pfpp_sim.model import PfppModel
from pfpp_sim.scenario import load_scenario

PLACES = ["E07000062", "E06000032"]  # Hastings, Luton


def small(name: str = "siloed_baseline", **overrides):
    return load_scenario(name).with_overrides({"run.places": PLACES, "run.horizon_months": 12, **overrides})


def outputs(model: PfppModel) -> tuple[list[dict[str, np.ndarray]], list[tuple]]:
    awards = [(a.programme, a.place, a.allocated_p, a.delivered_p, a.returned_p, a.held_total_p, a.pooled) for a in model.awards]
    return model.records, awards


def assert_same(got: PfppModel, expected: PfppModel) -> None:
    (got_records, got_awards), (records, awards) = outputs(got), outputs(expected)
    assert got_awards == awards
    assert len(got_records) == len(records)
    for month, (a, b) in enumerate(zip(got_records, records)):
        assert a.keys() == b.keys()
        for name in b:
            np.testing.assert_array_equal(a[name], b[name], err_msg=f"{name}, month {month}")


def test_a_run_from_a_set_up_kept_for_other_levers_gives_the_constructors_results():
    model_module._kept_set_up.cache_clear()
    joined_up = PfppModel.at_start(small("pfpp_joined_up"), seed=3, replicate=1).run()
    siloed = PfppModel.at_start(small(), seed=3, replicate=1).run()
    assert model_module._kept_set_up.cache_info().hits == 1  # set up once, for both
    assert_same(siloed, PfppModel(small(), seed=3, replicate=1).run())
    assert_same(joined_up, PfppModel(small("pfpp_joined_up"), seed=3, replicate=1).run())
    assert outputs(joined_up)[1] != outputs(siloed)[1], "each copy started with its own levers"


def test_each_run_steps_its_own_copy_with_its_own_recipient_records():
    first = PfppModel.at_start(small(), seed=4, replicate=0).run()
    second = PfppModel.at_start(small(), seed=4, replicate=0)
    assert first.recipients.had.any()
    for records in (first.recipients, second.recipients):  # each intervention's view is of its own model's column
        for received in records.received.values():
            assert np.shares_memory(received, records.had)
    assert not np.shares_memory(first.recipients.had, second.recipients.had)
    assert not np.shares_memory(first.population.young.status, second.population.young.status)
    assert_same(second.run(), PfppModel(small(), seed=4, replicate=0).run())


@pytest.mark.parametrize(
    ("overrides", "seed", "replicate"),
    [
        ({"run.places": PLACES[::-1]}, 5, 0),
        ({"world.households.median_income.value": 30000.0}, 5, 0),
        ({"mechanisms.run_in_months.value": 12}, 5, 0),
        ({"interventions.income_advice.unit_cost.value": 400.0}, 5, 0),
        ({"programmes.household_support.budget.value": 30.0}, 5, 0),
        ({}, 6, 0),
        ({}, 5, 1),
    ],
)
def test_other_settings_seed_or_replicate_get_their_own_set_up(overrides, seed, replicate):
    model_module._kept_set_up.cache_clear()
    PfppModel.at_start(small(), seed=5, replicate=0)
    PfppModel.at_start(small(**overrides), seed=seed, replicate=replicate)
    assert model_module._kept_set_up.cache_info().hits == 0


def test_another_calibration_gets_its_own_set_up():
    model_module._kept_set_up.cache_clear()
    PfppModel.at_start(small(), seed=5, replicate=0)
    PfppModel.at_start(small().model_copy(update={"calibration": None}), seed=5, replicate=0)
    assert model_module._kept_set_up.cache_info().hits == 0


@pytest.mark.parametrize(("limit", "kept"), [(3999, False), (4000, True)])
def test_a_scenario_of_more_households_than_the_keeping_limit_is_set_up_for_each_run(monkeypatch, limit, kept):
    # small() has 4,000 households: kept up to a limit of 4,000.
    monkeypatch.setattr(starting, "KEEP_HOUSEHOLDS", limit)
    model_module._kept_set_up.cache_clear()
    PfppModel.at_start(small(), seed=8, replicate=0)
    set_up = model_module._kept_set_up(starting.StartKey(small(), 8, 0, read=model_module._SET_UP_READS))
    assert model_module._kept_set_up.cache_info().hits == 1 and (set_up is not None) is kept


def test_a_scenario_too_large_to_keep_is_built_on_its_own_seed_and_replicate(monkeypatch):
    monkeypatch.setattr(starting, "KEEP_HOUSEHOLDS", 0)
    scenario = small(**{"run.horizon_months": 3})
    assert_same(PfppModel.at_start(scenario, seed=3, replicate=1).run(), PfppModel(scenario, seed=3, replicate=1).run())
    rates = [PfppModel.at_start(scenario, seed=seed, replicate=replicate).run().records[-1]["fuel_poverty_rate"]
             for seed, replicate in ((3, 1), (3, 0), (0, 1))]
    assert not np.array_equal(rates[0], rates[1]) and not np.array_equal(rates[0], rates[2])


def test_at_start_defaults_to_the_constructors_seed_and_replicate():
    scenario = small(**{"run.horizon_months": 3})
    assert_same(PfppModel.at_start(scenario).run(), PfppModel(scenario).run())


def test_copies_share_the_exogenous_paths_and_programmes_they_never_change():
    model_module._kept_set_up.cache_clear()
    first, second = (PfppModel.at_start(small(name), seed=9, replicate=0) for name in ("siloed_baseline", "pfpp_joined_up"))
    assert first.exo is second.exo and first.population is not second.population
    for ours, theirs in zip(first.departments, second.departments):
        assert ours is not theirs and all(a.programme is b.programme for a, b in zip(ours.streams, theirs.streams, strict=True))


def test_runs_one_after_another_from_one_kept_set_up_give_the_constructors_results():
    model_module._kept_set_up.cache_clear()
    names = ("pfpp_joined_up", "siloed_baseline", "pfpp_joined_up")
    runs = [PfppModel.at_start(small(name), seed=7, replicate=0).run() for name in names]
    assert model_module._kept_set_up.cache_info().hits == 2
    for name, got in zip(names, runs):
        assert_same(got, PfppModel(small(name), seed=7, replicate=0).run())


def test_the_next_runs_from_a_set_up_read_the_residents_numbers_the_first_run_kept(monkeypatch):
    model_module._kept_set_up.cache_clear()
    first = PfppModel.at_start(small("pfpp_joined_up"), seed=3, replicate=1)
    assert first.residents.kept_numbers is not None and len(first.residents.kept_numbers) == 0
    first.run()
    assert len(first.residents.kept_numbers) == 12

    def no_drawing(*_, **__):
        raise AssertionError("a month's numbers were drawn again")

    monkeypatch.setattr(residents_module, "draw_young", no_drawing)
    monkeypatch.setattr(residents_module, "draw_shocks", no_drawing)
    second = PfppModel.at_start(small(), seed=3, replicate=1)
    assert second.residents.kept_numbers is first.residents.kept_numbers
    second.run()
    monkeypatch.undo()
    assert_same(second, PfppModel(small(), seed=3, replicate=1).run())


def test_a_run_past_the_months_kept_draws_on_where_the_kept_numbers_left_its_streams():
    model_module._kept_set_up.cache_clear()
    first = PfppModel.at_start(small("pfpp_joined_up"), seed=4, replicate=1)
    for _ in range(5):
        first.step()
    assert len(first.residents.kept_numbers) == 5
    assert_same(PfppModel.at_start(small(), seed=4, replicate=1).run(), PfppModel(small(), seed=4, replicate=1).run())
    assert len(first.residents.kept_numbers) == 12


def test_kept_numbers_cannot_be_changed_by_a_run():
    model_module._kept_set_up.cache_clear()
    numbers = PfppModel.at_start(small(), seed=5, replicate=0).run().residents.kept_numbers.get(8)
    for part in (numbers.young.move, numbers.young.mind, numbers.young.entry, numbers.young.newcomer_mind, numbers.ranks, numbers.shocks):
        with pytest.raises(ValueError, match="read-only"):
            part[:1] = 0


@pytest.mark.parametrize(("limit", "kept"), [(767_999, False), (768_000, True)])
def test_numbers_that_would_take_more_than_the_limit_are_drawn_by_each_run(monkeypatch, limit, kept):
    # small() has 2,000 young people (3 float64 numbers a month each, counting September's
    # entry in every month) and 4,000 households (a float32 shock each): 12 x 64,000 bytes.
    monkeypatch.setattr(residents_module, "KEEP_NUMBERS_BYTES", limit)
    model_module._kept_set_up.cache_clear()
    assert (PfppModel.at_start(small(), seed=6, replicate=0).residents.kept_numbers is not None) is kept
    engine = PfppModel(small(), seed=6, replicate=0).residents
    assert engine.keep_numbers() is kept
    assert (engine.kept_numbers is not None) is kept


def test_an_engine_drawing_ahead_keeps_no_numbers():
    model = PfppModel(small(), seed=6, replicate=0, draw_ahead=True)
    assert model.residents.keep_numbers() is False and model.residents.kept_numbers is None
