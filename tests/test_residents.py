"""The residents' engine on its own: built from a population and stepped a month with given inputs."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pandas as pd
import pytest

from pfpp_sim.exogenous import exogenous_paths
from pfpp_sim.interventions import HOUSEHOLD_KEYS
from pfpp_sim.model import PfppModel
from pfpp_sim.outcomes import count_outcomes, resident_rates
from pfpp_sim.population import (
    AGE_16,
    AGE_25,
    BAND_C,
    BAND_D,
    EMPLOYED,
    NEET,
    YEAR_11,
    Population,
    build_population,
    school_group,
    since_september,
)
from pfpp_sim.residents import ResidentEngine, ResidentParameters
from pfpp_sim.scenario import INTERVENTION_KEYS, KEY_INDEX, load_scenario
from pfpp_sim.streams import stream
from pfpp_sim.targeting import RecipientRecords
from pfpp_sim.trends import years_beyond_data

TWO_PLACES = ["E07000062", "E06000032"]  # Hastings, Luton
SEED = 11


def small_scenario(**overrides):
    return load_scenario("siloed_baseline").with_overrides({"run.places": TWO_PLACES, "run.horizon_months": 3, **overrides})


def population_of(scenario, exo) -> Population:
    """The residents a model of ``scenario`` would start from (seed :data:`SEED`, replicate 0)."""
    return build_population(
        scenario, stream(SEED, 0, "population"), fuel_price_gbp=float(exo.price_gbp[0]), mh_prevalence=float(exo.mh_prevalence[0]),
        bill_discount_gbp=float(exo.bill_discount_gbp[0]), means_tested_gbp=float(exo.means_tested_gbp[0]),
        income_index=float(exo.income_index[0]),
    )


def parameters_of(scenario, **effects: float) -> ResidentParameters:
    """Each intervention's point values from ``scenario``, with ``effects`` replacing some effect sizes."""
    items = {k: scenario.interventions.get(k) for k in INTERVENTION_KEYS}
    effect = {k: float(item.effect.value) for k, item in items.items()} | effects
    return ResidentParameters(
        effect=effect,
        effect_without_disorder={k: float(item.effect_without_disorder.value) if item.effect_without_disorder else effect[k]
                                 for k, item in items.items()},
        duration={k: int(round(item.duration_months.value)) if item.duration_months else 0 for k, item in items.items()},
        cold_home_odds_ratio=float(scenario.world.young_people.cold_home_odds_ratio.value),
    )


def engine_of(scenario, parameters=None, *, population: Population | None = None, **speed) -> ResidentEngine:
    """The engine a model of ``scenario`` would step, over ``population`` if given (else :func:`population_of`)."""
    exo = exogenous_paths(scenario)
    return ResidentEngine(
        population_of(scenario, exo) if population is None else population, scenario, exo, parameters or parameters_of(scenario),
        seed=SEED, replicate=0, **speed,
    )


def step_once(engine: ResidentEngine, due=()) -> tuple[dict[str, np.ndarray], RecipientRecords]:
    pop = engine.population
    records = RecipientRecords(pop.households.n, pop.young.n)
    counts = engine.step(0, list(due), records=records, rng=np.random.default_rng(0))
    return counts, records


def test_young_people_in_cold_homes_start_a_mental_disorder_more_often_by_the_cold_home_odds_ratio():
    # Half the young people live in a cold home (last month's fuel poverty, which their step reads);
    # with an odds ratio of 20 their onsets far outnumber those of the young people in warm homes.
    scenario = small_scenario()
    engine = engine_of(scenario, dataclasses.replace(parameters_of(scenario), cold_home_odds_ratio=20.0))
    y = engine.population.young
    y.mh_disorder[:] = False
    cold = np.arange(y.n) % 2 == 0
    engine.cold_home[:] = cold
    step_once(engine)
    assert y.mh_disorder[cold].mean() > 3 * y.mh_disorder[~cold].mean() > 0


def test_a_month_counts_every_household_and_young_person_of_each_place_and_those_fuel_poor_or_neet():
    engine = engine_of(small_scenario())
    counts, _ = step_once(engine)
    h, y = engine.population.households, engine.population.young
    np.testing.assert_array_equal(counts["households"], np.bincount(h.place, minlength=2))
    np.testing.assert_array_equal(counts["young_people"], np.bincount(y.place, minlength=2))
    np.testing.assert_array_equal(counts["fuel_poor"], np.bincount(h.place[h.fuel_poor], minlength=2))
    np.testing.assert_array_equal(counts["neet_16_24"], np.bincount(y.place[y.status == NEET], minlength=2))
    assert counts["fuel_poor"].sum() > 0 and counts["neet_16_24"].sum() > 0
    # The cold homes young people see next month are this month's fuel-poor households.
    np.testing.assert_array_equal(engine.cold_home, h.fuel_poor[y.household])


def test_the_starting_rates_and_each_months_counts_take_the_dfe_cohort_at_its_academic_age_on_their_day():
    # A run from April 2021 over two and a half years: the starting rates are those of
    # 1 April, a month's counts those of the first day of the next month (1 May for April).
    engine = engine_of(small_scenario(**{"run.start": "2021-04", "run.horizon_months": 30}))
    firsts = pd.date_range("2021-04-01", periods=31, freq="MS")
    np.testing.assert_array_equal(engine.since_september, (firsts.month.to_numpy() - 9) % 12)
    pop = engine.population
    on_1_april, on_1_may = resident_rates(pop, since_september(4)), resident_rates(pop, since_september(5))
    assert not np.array_equal(on_1_april["neet_16_17_rate"], on_1_may["neet_16_17_rate"]), "the day must matter for the test"
    for name, rate in on_1_april.items():
        np.testing.assert_array_equal(engine.initial_rates[name], rate, err_msg=name)
    counts, _ = step_once(engine)
    for name, counted_afresh in count_outcomes(pop, engine.equity_groups, since_september(5)).items():
        np.testing.assert_array_equal(counts[name], counted_afresh, err_msg=name)  # as the young people's step counted them
    young_16_17 = counts["young_16_17"]
    assert not np.array_equal(young_16_17, count_outcomes(pop, engine.equity_groups, since_september(4))["young_16_17"])


def test_the_records_forget_support_after_its_last_month_so_that_next_months_deliveries_may_give_it_again():
    months = 3
    scenario = small_scenario(**{"run.horizon_months": months + 2})
    engine = engine_of(scenario, dataclasses.replace(parameters_of(scenario), duration={k: months for k in INTERVENTION_KEYS}))
    pop = engine.population
    records = RecipientRecords(pop.households.n, pop.young.n)
    who = np.arange(0, pop.households.n, 7)
    flat = who + records.base[KEY_INDEX["bill_support"]]
    records.had[flat], records.streams[flat] = True, 1  # as the month-0 delivery recorded them
    rng = np.random.default_rng(0)
    for t in range(months + 1):
        engine.step(t, [("bill_support", who)] if t == 0 else [], records=records, rng=rng)
        running = t + 1 < months  # support given in month 0 runs in months 0, 1 and 2
        assert records.had[flat].all() == running and (records.streams[flat] != 0).all() == running, t
        assert records.had[flat].any() == running and (records.streams[flat] != 0).any() == running, t


def test_careers_guidance_running_in_the_first_month_only_still_raises_the_steady_neet_entry_hazards():
    # Support at the start lowers some young people's entry, so each place's base hazard is
    # raised to keep its starting NEET shares steady: guidance that ends after month 0 counts.
    scenario = small_scenario()
    exo = exogenous_paths(scenario)

    def engine_with(careers_until: int) -> ResidentEngine:
        pop = population_of(scenario, exo)
        pop.young.careers_until[::3] = careers_until
        return engine_of(scenario, population=pop)

    without, first_month_only = engine_with(0).entry_hazard, engine_with(1).entry_hazard
    assert (first_month_only >= without).all() and (first_month_only > without).any()


def test_the_reference_world_that_sets_the_baseline_onset_has_the_places_fitted_income_trend():
    scenario = small_scenario(**{"run.horizon_months": 24})
    exo = exogenous_paths(scenario)
    trending = population_of(scenario, exo)
    assert trending.places.income_trend.any()
    flat = dataclasses.replace(trending, places=dataclasses.replace(trending.places, income_trend=np.zeros(trending.places.n)))
    onset = [engine_of(scenario, population=pop).base_onset for pop in (trending, flat)]
    np.testing.assert_array_equal(onset[0][0], onset[1][0])  # the first month's incomes are the same
    assert not np.array_equal(onset[0][1:], onset[1][1:]), "later months' cold homes follow the trend"


def test_with_no_neet_moves_and_no_mental_health_changes_only_newcomers_change_status_or_health():
    # Given zero NEET exit and entry hazards (the entry hazard keeps the starting NEET
    # share steady, so it is zero too) and zero recovery (so zero onset), expect the month
    # to leave everyone's NEET status and health as they were, except the 16-year-olds
    # who replace those turning 25; everyone else is a month older.
    zero = {"world.young_people.neet_exit_hazard.value": 0.0, "world.young_people.neet_entry_hazard_floor.value": 0.0,
            "world.young_people.mh_recovery_hazard.value": 0.0}
    engine = engine_of(small_scenario(**zero))
    assert not engine.entry_hazard.any() and not engine.base_onset.any()
    y = engine.population.young
    neet, disorder, age = y.status == NEET, y.mh_disorder.copy(), y.age_months.copy()
    stays = age < AGE_25 - 1
    assert (~stays).any() and neet.any() and disorder.any()
    step_once(engine)
    np.testing.assert_array_equal((y.status == NEET)[stays], neet[stays])
    np.testing.assert_array_equal(y.mh_disorder[stays], disorder[stays])
    np.testing.assert_array_equal(y.age_months[stays], age[stays] + 1)
    assert (y.age_months[~stays] == AGE_16).all()


ZERO_NEET_MOVES = {"world.young_people.neet_exit_hazard.value": 0.0, "world.young_people.neet_entry_hazard_floor.value": 0.0}


@pytest.mark.parametrize("start", ["2021-08", "2021-07"])
def test_on_1_september_a_year_group_starts_year_12_and_some_of_it_neet_at_its_places_rate(start):
    # Given no NEET moves in the month, expect the month that ends on 1 September (from an
    # August start) to make some of Year 11, now starting Year 12, NEET, about their place's
    # NEET 16-17 rate, and a month that ends on 1 August to make none of Year 11 NEET.
    engine = engine_of(small_scenario(**{"run.start": start, "run.scale": 0.05, **ZERO_NEET_MOVES}))
    assert not engine.entry_hazard.any()
    y = engine.population.young
    starting = school_group(y.age_months, since_september(int(start[5:]))) == YEAR_11
    assert starting.sum() > 100 and not (y.status[starting] == NEET).any(), "Year 11 is in school"
    step_once(engine)
    neet = y.status[starting] == NEET
    if start == "2021-07":
        assert not neet.any()
        return
    rate = engine.population.places.target_neet_16_17[y.place[starting]]
    expected, sd = rate.sum(), np.sqrt((rate * (1 - rate)).sum())
    assert neet.sum() > 0 and abs(neet.sum() - expected) < 4 * sd, (neet.sum(), expected)


def test_careers_guidance_in_year_11_keeps_a_september_starter_from_starting_neet():
    # Given guidance that prevents all NEET entry for half of Year 11, expect none of them
    # to start Year 12 NEET on 1 September, and some of the others to.
    scenario = small_scenario(**{"run.start": "2021-08", "run.scale": 0.05, **ZERO_NEET_MOVES})
    engine = engine_of(scenario, parameters_of(scenario, careers_guidance=1.0))
    y = engine.population.young
    year_11 = np.flatnonzero(school_group(y.age_months, since_september(8)) == YEAR_11)
    guided, unguided = year_11[::2], year_11[1::2]
    y.careers_until[guided] = 6
    step_once(engine)
    assert not (y.status[guided] == NEET).any()
    assert (y.status[unguided] == NEET).any()


def test_year_11_pupils_never_become_neet_while_those_in_years_12_13_and_past_them_do():
    # Given a high NEET entry hazard (its floor), expect a month to make many of those in
    # Years 12-13 and past them NEET and none of Year 11 (aged 15 on the last 31 August).
    engine = engine_of(small_scenario(**{"run.start": "2021-01", "world.young_people.neet_entry_hazard_floor.value": 0.5}))
    y = engine.population.young
    year_11 = school_group(y.age_months, since_september(1)) == YEAR_11
    others = ~year_11 & (y.status != NEET)
    assert year_11.sum() > 20 and (y.status[year_11] != NEET).all()
    step_once(engine)
    assert not (y.status[year_11] == NEET).any()
    assert (y.status[others] == NEET).mean() > 0.3


@pytest.mark.parametrize("key", ["asb_outreach", "careers_guidance"])
def test_outreach_or_guidance_running_keeps_those_past_year_11_from_becoming_neet(key):
    # Given a high NEET entry hazard (its floor) and support that prevents all NEET entry while
    # it runs, expect none of those it runs for to become NEET in a month, and many of the others to.
    scenario = small_scenario(**{"run.start": "2021-01", "world.young_people.neet_entry_hazard_floor.value": 0.5})
    engine = engine_of(scenario, parameters_of(scenario, **{key: 1.0}))
    y = engine.population.young
    at_risk = np.flatnonzero((school_group(y.age_months, since_september(1)) != YEAR_11) & (y.status != NEET))
    supported, others = at_risk[::2], at_risk[1::2]
    {"asb_outreach": y.asb_until, "careers_guidance": y.careers_until}[key][supported] = 6
    step_once(engine)
    assert supported.size > 20
    assert not (y.status[supported] == NEET).any()
    assert (y.status[others] == NEET).mean() > 0.3


def test_the_effects_given_to_a_step_start_that_month():
    # Given retrofits that always reach band C and bill support for some homes, expect
    # those in band D or worse in band C after the month, and the support to end after its duration.
    scenario = small_scenario()
    parameters = parameters_of(scenario, retrofit=1.0)
    engine = engine_of(scenario, parameters)
    h = engine.population.households
    poor_bands = np.flatnonzero(h.band >= BAND_D)[:50]
    supported = np.arange(0, 200, 5)
    assert poor_bands.size == 50
    step_once(engine, [("retrofit", poor_bands), ("bill_support", supported)])
    assert (h.band[poor_bands] == BAND_C).all()
    assert parameters.duration["bill_support"] > 0
    assert (h.bill_support_until[supported] == parameters.duration["bill_support"]).all()
    np.testing.assert_allclose(h.bill_support[supported], parameters.effect["bill_support"])


def test_blocks_threads_and_drawing_ahead_change_no_count_or_resident():
    scenario = small_scenario()
    plain = engine_of(scenario, threads=1, draw_ahead=False)
    fast = engine_of(scenario, block_households=1, threads=2, draw_ahead=True)
    assert len(plain.blocks) == 1 and len(fast.blocks) == 2
    homes = np.arange(0, 300, 3)
    for t in range(3):
        due = [("income_advice", homes)] if t == 1 else []
        records = [RecipientRecords(e.population.households.n, e.population.young.n) for e in (plain, fast)]
        a = plain.step(t, due, records=records[0], rng=stream(SEED, 0, "interventions", t))
        b = fast.step(t, due, records=records[1], rng=stream(SEED, 0, "interventions", t))
        for name in a:
            np.testing.assert_array_equal(a[name], b[name], err_msg=f"{name}, month {t}")
    for group in ("households", "young"):
        for name, values in vars(getattr(plain.population, group)).items():
            if isinstance(values, np.ndarray):
                np.testing.assert_array_equal(values, getattr(getattr(fast.population, group), name), err_msg=name)


def test_building_a_model_starts_no_thread_and_its_first_month_draws_the_next_ahead():
    before = threading.active_count()
    model = PfppModel(small_scenario(), seed=SEED, block_households=1, threads=2, draw_ahead=True)
    assert threading.active_count() == before
    model.step()
    assert model.residents._drawing_young is not None, "next month's numbers are being drawn"
    model.run()


def test_block_size_and_threads_below_one_are_refused():
    with pytest.raises(ValueError, match="at least 1"):
        engine_of(small_scenario(), block_households=0)
    with pytest.raises(ValueError, match="at least 1"):
        engine_of(small_scenario(), threads=0)


def _neet_exits(engine: ResidentEngine, who: np.ndarray) -> int:
    """How many of ``who`` (all NEET) are no longer NEET after one month."""
    y = engine.population.young
    assert (y.status[who] == NEET).all()
    step_once(engine)
    return int(np.count_nonzero(y.status[who] != NEET))


def _all_neet(**overrides) -> ResidentEngine:
    """An engine whose young people below 24 are all NEET, for a month of exits on the same draws."""
    engine = engine_of(small_scenario(**{"world.young_people.neet_exit_hazard.value": 0.3, **overrides}))
    y = engine.population.young
    y.status[:] = NEET
    return engine


def test_a_mental_disorder_slows_leaving_neet_by_the_job_finding_multiplier():
    # On the same draws, young people with a probable disorder leave NEET less often the
    # lower the multiplier; those without one are not affected.
    slow, same = _all_neet(**{"world.young_people.mh_job_finding_multiplier.value": 0.2}), _all_neet(
        **{"world.young_people.mh_job_finding_multiplier.value": 1.0})
    y = slow.population.young
    disorder = np.flatnonzero(y.mh_disorder & (y.age_months < AGE_25 - 1))
    without = np.flatnonzero(~y.mh_disorder & (y.age_months < AGE_25 - 1))
    assert disorder.size > 100
    assert _neet_exits(slow, disorder) < 0.5 * _neet_exits(same, disorder)
    for engine in (slow, same):
        engine.population.young.status[:] = NEET
    slow_others, same_others = _neet_exits(slow, without), _neet_exits(same, without)
    assert slow_others == pytest.approx(same_others, rel=0.1)


def test_the_longer_a_neet_spell_the_slower_the_exit_by_the_scarring_rate():
    scarred, unscarred = (_all_neet(**{"world.young_people.neet_scarring.value": value}) for value in (0.8, 0.0))
    for engine in (scarred, unscarred):
        engine.population.young.months_neet[:] = 48  # four years NEET
    y = scarred.population.young
    who = np.flatnonzero(y.age_months < AGE_25 - 1)
    assert _neet_exits(scarred, who) < 0.1 * _neet_exits(unscarred, who)


def test_incomes_take_monthly_shocks_of_the_given_spread():
    # Without shocks a household's deviation only decays; with them it spreads out.
    calm = engine_of(small_scenario(**{"world.households.income_shock_sd.value": 0.0}))
    shaken = engine_of(small_scenario())
    persistence = shaken.world.households.income_persistence.value
    before = shaken.population.households.income_dev.copy()
    assert np.std(before) > 0
    calm.population.households.income_dev[:] = before  # the same households, whose starting spread followed the shocks'
    step_once(calm)
    step_once(shaken)
    np.testing.assert_allclose(calm.population.households.income_dev, persistence * before, rtol=1e-6)
    moved = shaken.population.households.income_dev - persistence * before
    assert np.std(moved) == pytest.approx(shaken.world.households.income_shock_sd.value, rel=0.1)


# ------------------------------------------------------------ households' incomes and fuel costs, by hand


def test_a_households_income_adds_its_working_young_peoples_earnings_payments_and_advice_gain_at_the_months_index():
    # Months 1 (no payment yet) and 2 (the first cost-of-living payment) of a run from May 2022; an
    # income-advice gain that runs to month 2 counts in month 1 only, one that runs to month 3 in both.
    engine = engine_of(small_scenario(**{"run.start": "2022-05", "run.horizon_months": 12}))
    h, y, exo = engine.population.households, engine.population.young, engine.exo
    assert exo.means_tested_gbp[1] == 0 and exo.means_tested_gbp[2] > 0 and exo.income_index[1] != 1
    h.income_gain_until[::7], h.income_gain_until[3::7] = 2, 3
    earnings = engine.world.young_people.youth_earnings.value
    working = np.zeros(h.n)
    # A simulated young person stands for youth_weight real ones, a household for household_weight.
    link = engine.population.places.youth_weight / engine.population.places.household_weight
    np.add.at(working, y.household, np.where(y.status == EMPLOYED, link[y.place], 0.0))
    assert (working > 0).sum() > 20 and (working > link.max()).any(), "homes with one and with two young people in work"
    for t in (1, 2):
        index = exo.income_index[t]
        gain = np.where(h.income_gain_until > t, engine.effect["income_advice"], 0.0)
        expected = h.base_income * np.exp(h.income_dev.astype(np.float64)) * index + gain + earnings * index * working
        expected += h.means_tested * exo.means_tested_gbp[t]
        got = np.concatenate([engine._block_income(t, block) for block in engine.blocks])
        np.testing.assert_allclose(got, expected, rtol=1e-6, err_msg=f"month {t}")


@pytest.mark.parametrize("supported", [True, False])
def test_fuel_poverty_uses_each_homes_fuel_cost_less_the_bill_support_running_and_the_universal_discount(supported):
    # Month 6 of a run from May 2022: the universal discount has begun. Bill support that runs to
    # month 6 has ended; to month 7, it still runs. Without any support running, the costs by band are used.
    engine = engine_of(small_scenario(**{"run.start": "2022-05", "run.horizon_months": 12}))
    h, exo, t = engine.population.households, engine.exo, 6
    assert exo.bill_discount_gbp[t] > 0
    if supported:
        h.bill_support[::3], h.bill_support_until[::3] = 600.0, 7
        h.bill_support[1::3], h.bill_support_until[1::3] = 600.0, 6
    running = np.where(h.bill_support_until > t, h.bill_support, 0.0)
    cost = np.maximum(exo.price_gbp[t] * engine.band_cost[h.band] - running - exo.bill_discount_gbp[t], 0.0)
    np.testing.assert_allclose(np.concatenate([engine._block_fuel_cost(t, block) for block in engine.blocks]), cost)
    income = np.concatenate([engine._block_fuel_poverty(t, block) for block in engine.blocks])
    flags = (h.band >= BAND_D) & (income - cost < exo.poverty_line_gbp[t])
    np.testing.assert_array_equal(h.fuel_poor, flags)
    assert 0 < flags.sum() < (h.band >= BAND_D).sum()


def test_prevention_cuts_neet_entry_only_while_careers_guidance_or_outreach_runs():
    engine = engine_of(small_scenario())
    y, t = engine.population.young, 4
    y.careers_until[:] = y.asb_until[:] = 0
    # Per 6 people: careers guidance ended this month, still running; outreach the same; one of each
    # running with the other ended this month.
    y.careers_until[0:60:6], y.careers_until[1:60:6] = t, t + 1
    y.asb_until[2:60:6], y.asb_until[3:60:6] = t, t + 1
    y.careers_until[4:60:6], y.asb_until[4:60:6] = t, t + 1
    y.careers_until[5:60:6], y.asb_until[5:60:6] = t + 1, t
    hazard = engine._with_prevention(t, slice(0, 60), np.full(60, 0.01))
    careers, outreach = 1.0 - engine.effect["careers_guidance"], 1.0 - engine.effect["asb_outreach"]
    np.testing.assert_allclose(hazard, np.tile([0.01, 0.01 * careers, 0.01, 0.01 * outreach, 0.01 * outreach, 0.01 * careers], 10))


def test_newcomers_replacing_those_turning_25_start_without_support_or_records_and_with_disorder_at_the_prevalence():
    engine = engine_of(small_scenario(**{"run.places": [*TWO_PLACES, "E06000001"]}), block_households=1)  # a block per place
    assert len(engine.blocks) == 3
    y = engine.population.young
    y.age_months[:] = np.minimum(y.age_months, AGE_25 - 2)
    y.age_months[np.random.default_rng(1).random(y.n) < 1 / 3] = AGE_25 - 1  # a third turn 25 this month
    turning = y.age_months == AGE_25 - 1
    assert engine._young_draw_args(0)["n_newcomers"] == turning.sum()
    for column in (y.careers_until, y.ips_until, y.asb_until):
        column[:] = 9
    pop = engine.population
    records = RecipientRecords(pop.households.n, pop.young.n)
    young_keys = [key for key in INTERVENTION_KEYS if key not in HOUSEHOLD_KEYS]
    for key in young_keys:
        records.received[key][:] = True
        records.served_by[key][:] = 3
    engine.step(0, [], records=records, rng=np.random.default_rng(0))
    for column in (y.careers_until, y.ips_until, y.asb_until):
        assert not column[turning].any() and (column[~turning] == 9).all()
    for key in young_keys:
        assert not records.received[key][turning].any() and records.received[key][~turning].all()
        assert not records.served_by[key][turning].any() and (records.served_by[key][~turning] == 3).all()
    prevalence = engine.exo.mh_prevalence[0]
    assert abs(y.mh_disorder[turning].mean() - prevalence) < 4 * np.sqrt(prevalence * (1 - prevalence) / turning.sum())


def test_base_incomes_grow_at_the_fitted_trend_in_its_data_years_and_at_its_damped_step_beyond_them():
    engine = engine_of(small_scenario(**{"run.horizon_months": 6}))
    engine.income_growth, engine.income_trend_months = np.array([1.01, 0.98]), 2
    engine.income_beyond_years = np.array([0.0, 0.0, 0.0, 0.25, 0.5, 0.5, 0.5])
    engine.population.places.income_trend = np.array([0.1, -0.2])
    expected = [np.array([1.01, 0.98])] * 2 + [np.exp(np.array([0.1, -0.2]) * 0.25)] * 2 + [None] * 2
    for t, growth in enumerate(expected):
        got = engine._income_growth_in(t)
        assert (got is None) if growth is None else np.allclose(got, growth), (t, got)
    h = engine.population.households
    h.months_cold[:] = 5
    base, cold = h.base_income.copy(), h.months_cold.copy()
    step_once(engine)
    np.testing.assert_allclose(h.base_income, base * np.array([1.01, 0.98])[h.place])
    np.testing.assert_array_equal(h.months_cold, cold + h.fuel_poor)
    engine.income_growth = None
    assert all(engine._income_growth_in(t) is None for t in range(2))


def test_the_income_scale_gives_each_place_the_fuel_poor_households_wanted_with_the_support_running_in_month_0():
    engine = engine_of(small_scenario(), block_households=1)
    h = engine.population.households
    h.bill_support[::4], h.bill_support_until[::4] = 500.0, 3
    h.income_gain_until[1::4] = 3
    wanted = np.array([40, 90])
    h.base_income *= engine.income_scale(wanted)[h.place]
    income = engine.update_fuel_poverty(0)
    np.testing.assert_array_equal(np.bincount(h.place[h.fuel_poor], minlength=2), wanted)
    np.testing.assert_allclose(income, np.concatenate([engine._block_income(0, block) for block in engine.blocks]))


def test_the_engine_grows_incomes_by_the_fitted_trend_a_month_at_a_time_and_damps_each_series_beyond_its_data():
    # The months before each trend ends are pinned by hand in test_model.py
    # (test_fitted_trends_act_until_the_centre_of_their_last_data_year_and_unfitted_runs_have_no_end).
    damping = {"value": 0.5, "unit": "fraction/year", "source": "assumption:trend_damping", "low": 0.0, "high": 0.5}
    scenario = small_scenario(**{"run.start": "2021-04", "run.horizon_months": 60, "world.trend_damping": damping})
    engine = engine_of(scenario)
    places, fit = engine.population.places, scenario.calibration
    assert places.income_trend.any() and places.neet_trend.any()
    np.testing.assert_allclose(engine.income_growth, np.exp(places.income_trend / 12.0))
    for metric, months, beyond in (("fuel_poverty_rate", engine.income_trend_months, engine.income_beyond_years),
                                   ("neet_16_17_rate", engine.neet_trend_months, engine.neet_beyond_years)):
        np.testing.assert_array_equal(beyond, years_beyond_data("2021-04", fit.trend_end(metric), 60, 0.5))
        assert beyond[months] == 0 and beyond[-1] > 0
    plain = engine_of(small_scenario(**{"run.horizon_months": 60}).model_copy(update={"calibration": None}))
    assert plain.income_growth is None
    assert not plain.income_beyond_years.any() and not plain.neet_beyond_years.any()


def test_the_fitted_neet_trend_moves_year_12_13_entry_and_the_year_12_share_held_beyond_its_data():
    engine = engine_of(small_scenario(**{"run.start": "2021-04", "run.horizon_months": 60}))
    places, months = engine.population.places, engine.neet_trend_months
    places.neet_trend = np.array([0.12, -0.3])
    assert 0 < months < 59 and not engine.neet_beyond_years.any()  # held: no damping set
    beyond = np.linspace(0.0, 3.0, 61)  # as if damped: years of trend beyond the data, rising
    for t, years, held in ((0, 1 / 12, True), (months - 1, months / 12, True), (months + 5, months / 12, True),
                           (months + 5, months / 12 + beyond[months + 6], False)):
        engine.neet_beyond_years = np.zeros(61) if held else beyond
        entry, year_12 = engine.neet_hazards(t)
        drift = np.exp(places.neet_trend * years)
        np.testing.assert_allclose(entry, engine.entry_hazard * np.column_stack([drift, np.ones(2)]), err_msg=f"month {t}")
        np.testing.assert_allclose(year_12, places.target_neet_16_17 * drift, err_msg=f"month {t}")
    places.neet_trend = np.array([40.0, 0.0])
    assert engine.neet_hazards(0)[1][0] == 1.0, "a share of at most 1"


def test_young_people_in_warm_homes_start_a_mental_disorder_at_the_baseline_onset():
    # No one in a cold home, an onset of 0.3 a month and no recovery: about 0.3 of those without a
    # disorder (and not turning 25) have one after the month.
    engine = engine_of(small_scenario(**{"world.young_people.mh_recovery_hazard.value": 0.0}))
    y = engine.population.young
    engine.cold_home[:] = False
    engine.base_onset[:] = 0.3
    well = ~y.mh_disorder & (y.age_months < AGE_25 - 1)
    step_once(engine)
    share, n = y.mh_disorder[well].mean(), well.sum()
    assert abs(share - 0.3) < 4 * np.sqrt(0.3 * 0.7 / n), (share, n)
