"""Behaviour of whole runs: invariants, accounts and the direction of the main levers.

Direction checks pair replicates on common random numbers and require the 95%
confidence interval of the paired difference (t distribution) to exclude zero.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from pfpp_sim import residents
from pfpp_sim.errors import InvariantError
from pfpp_sim.model import PfppModel
from pfpp_sim.outcomes import FLOWS, OVERHEADS, RATES
from pfpp_sim.scenario import list_presets, load_scenario

PLACES = ["E07000062", "E06000032"]  # Hastings, Luton
REPLICATES = 8
SEED = 11


def small(name: str = "siloed_baseline", horizon: int = 60, **overrides):
    return load_scenario(name).with_overrides({"run.places": PLACES, "run.horizon_months": horizon, **overrides})


def total(model: PfppModel, name: str) -> float:
    return float(sum(record[name].sum() for record in model.records))


def replicates(scenario) -> list[PfppModel]:
    return [PfppModel(scenario, seed=SEED, replicate=r).run() for r in range(REPLICATES)]


def paired_ci(treated: list[float], control: list[float]) -> tuple[float, float]:
    """95% confidence interval of the mean paired difference ``treated - control``."""
    diff = np.asarray(treated, dtype=float) - np.asarray(control, dtype=float)
    half = stats.t.ppf(0.975, diff.size - 1) * diff.std(ddof=1) / np.sqrt(diff.size)
    return diff.mean() - half, diff.mean() + half


@pytest.fixture(scope="module")
def conserved_model() -> PfppModel:
    """Three places (one small, so every slice is short) stepped a few months."""
    model = PfppModel(small(horizon=6, **{"run.places": [*PLACES, "E06000053"]}), seed=SEED)
    for _ in range(3):
        model.step()
    return model


@pytest.fixture(scope="module")
def siloed_runs() -> list[PfppModel]:
    return replicates(small())


# --------------------------------------------------------------------- invariants


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_run_keeps_ledgers_deadlines_and_rates_valid(name):
    model = PfppModel(small(name), seed=SEED).run()
    assert model.awards, "a five-year run awards grants"
    for award in model.awards:
        award.check(model.month)
        assert award.allocated_p == award.delivered_p + award.overhead_p + award.returned_p + award.held_total_p
        assert award.last_delivery < award.deadline
        assert award.first_delivery < 0 or award.first_delivery >= award.award_month
    assert len(model.records) == model.scenario.run.horizon_months
    for month, record in enumerate(model.records):
        for rate in RATES:
            values = record[rate]
            assert np.all((values >= 0) & (values <= 1)), f"{rate} out of [0, 1] in month {month}"
        for flow in FLOWS:
            assert np.all(record[flow] >= 0), f"{flow} negative in month {month}"


def test_flows_add_up_to_the_award_ledgers():
    model = PfppModel(small("pfpp_joined_up"), seed=SEED).run()
    assert any(award.pooled for award in model.awards)
    for flow, field in [
        ("allocated_gbp", "allocated_p"),
        ("delivered_gbp", "delivered_p"),
        ("grant_overhead_gbp", "overhead_p"),
        ("returned_gbp", "returned_p"),
        ("duplicated_gbp", "duplicated_p"),
    ]:
        ledger = sum(getattr(award, field) for award in model.awards) / 100
        assert total(model, flow) == pytest.approx(ledger, abs=0.01 * len(model.awards)), flow
    held = sum(a.held_total_p for a in model.awards if not a.closed) / 100
    assert model.records[-1]["held_gbp"].sum() == pytest.approx(held, abs=0.01)
    for record in model.records:
        np.testing.assert_allclose(record["overhead_gbp"], sum(record[k] for k in OVERHEADS))


def _penny_vanishes(model):
    award = model.open_awards()[0]
    award.delivered_p += 1
    return award.place_code


def _held_goes_negative(model):
    award = next(a for a in model.open_awards() if len(a.held_p) >= 2)
    first, second = list(award.held_p)[:2]
    award.held_p[second] += award.held_p[first] + 1
    award.held_p[first] = -1  # the total held, and so the balance, are unchanged
    return award.place_code


def _delivery_after_deadline(model):
    award = model.open_awards()[0]
    award.last_delivery = award.deadline
    return award.place_code


def _household_moves_place(model):
    model.population.households.place[0] = 1
    return PLACES[0]


def _young_person_lost(model):
    model.population.young.status = model.population.young.status[:-1]
    return "all"


def _young_person_without_status(model):
    young = model.population.young
    young.status[young.slices[1].start] = 7
    return PLACES[1]


def _rate_above_one(model):
    model.rates["youth_mh_rate"][1] = 1.5
    return PLACES[1]


def _rate_not_a_number(model):
    model.rates["fuel_poverty_rate"][0] = np.nan
    return PLACES[0]


@pytest.mark.parametrize(
    ("corrupt", "invariant"),
    [
        (_penny_vanishes, "ledger does not balance"),
        (_held_goes_negative, "negative balance"),
        (_delivery_after_deadline, "spend after deadline"),
        (_household_moves_place, "residents not conserved: households count changed"),
        (_young_person_lost, "residents not conserved: young people column status holds"),
        (_young_person_without_status, "residents not conserved: a young person has no status"),
        (_rate_above_one, "rate out of [0, 1]: youth_mh_rate = 1.5"),
        (_rate_not_a_number, "rate out of [0, 1]: fuel_poverty_rate = nan"),
    ],
    ids=lambda value: value.__name__.strip("_") if callable(value) else None,
)
def test_each_broken_invariant_is_named_with_its_month_and_place(corrupt, invariant):
    model = PfppModel(small(horizon=24), seed=SEED)
    for _ in range(7):
        model.step()
    place = corrupt(model)
    with pytest.raises(InvariantError) as info:
        model.check_invariants()
    message = str(info.value)
    assert message.startswith(invariant), message
    assert f", month {model.month}, place {place}" in message, message


def test_the_same_seed_repeats_a_run_and_another_seed_does_not():
    sc = small(horizon=24)
    first, again, other = (PfppModel(sc, seed=s).run() for s in (SEED, SEED, SEED + 1))
    for a, b in zip(first.records, again.records):
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])
    assert any(
        not np.array_equal(a["youth_mh_rate"], c["youth_mh_rate"]) for a, c in zip(first.records, other.records)
    )


def test_results_do_not_depend_on_blocks_threads_or_drawing_ahead(monkeypatch):
    # Given the same seed, stepping residents place by place in threads with the month's
    # numbers drawn ahead gives exactly what one block in one thread gives.
    sc = small(horizon=24, **{"levers.data_sharing": 0.5})
    whole = PfppModel(sc, seed=SEED).run()
    monkeypatch.setattr(residents, "BLOCK_HOUSEHOLDS", 1)  # one place per block
    monkeypatch.setattr(residents, "DRAW_AHEAD_HOUSEHOLDS", 0)  # helper thread and block threads
    split = PfppModel(sc, seed=SEED)
    assert len(split.blocks) == len(PLACES)
    split.run()
    for a, b in zip(whole.records, split.records, strict=True):
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])
    for a, b in zip(whole.equity_records, split.equity_records, strict=True):
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])
    np.testing.assert_array_equal(whole.population.households.months_cold, split.population.households.months_cold)
    np.testing.assert_array_equal(whole.population.young.status, split.population.young.status)


# ----------------------------------------------------------------- lever effects


def test_pooling_with_aligned_timelines_and_carry_over_lowers_money_returned(siloed_runs):
    joined = replicates(small(**{"levers.pooling": 0.6, "levers.timeline_alignment": True, "levers.carry_over": True}))
    low, high = paired_ci([total(m, "returned_gbp") for m in joined], [total(m, "returned_gbp") for m in siloed_runs])
    assert high < 0, (low, high)


def test_full_pooling_with_aligned_timelines_and_carry_over_lowers_overhead(siloed_runs):
    # Full pooling: with partial pooling every stream still sends a residual grant with
    # its own fixed reporting cost and bid, so overhead need not fall (see DESIGN.md,
    # "Joined-up is not assumed to win").
    joined = replicates(small(**{"levers.pooling": 1.0, "levers.timeline_alignment": True, "levers.carry_over": True}))
    low, high = paired_ci([total(m, "overhead_gbp") for m in joined], [total(m, "overhead_gbp") for m in siloed_runs])
    assert high < 0, (low, high)


def test_data_sharing_raises_the_share_of_retrofits_reaching_fuel_poor_homes():
    # Formula funding only, so every replicate delivers retrofits (no lost bids).
    base = small(horizon=48, **{"levers.competitive_share": 0.0})

    def share(model: PfppModel) -> float:
        retrofits = total(model, "retrofits")
        assert retrofits > 0
        return total(model, "retrofits_to_fuel_poor") / retrofits

    shared = [share(m) for m in replicates(base.with_overrides({"levers.data_sharing": 0.8}))]
    unshared = [share(m) for m in replicates(base.with_overrides({"levers.data_sharing": 0.0}))]
    low, high = paired_ci(shared, unshared)
    assert low > 0, (low, high)


def test_one_year_funding_periods_lose_more_mobilisation_months_than_three_year_ones():
    base = small(horizon=48)
    yearly = replicates(base.with_overrides({"levers.funding_period_months": 12}))
    three_year = replicates(base.with_overrides({"levers.funding_period_months": 36}))
    low, high = paired_ci(
        [total(m, "mobilisation_months_lost") for m in yearly], [total(m, "mobilisation_months_lost") for m in three_year]
    )
    assert low > 0, (low, high)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_resident_moved_to_any_other_place_breaks_conservation(data, conserved_model):
    """The cheap conservation check (order and slice ends) catches every single move a count would."""
    group_name = data.draw(st.sampled_from(["households", "young"]))
    group = getattr(conserved_model.population, group_name)
    ends = [row for s in group.slices if s.stop > s.start for row in (s.start, s.stop - 1)]
    row = data.draw(st.one_of(st.sampled_from(ends), st.integers(0, group.n - 1)))  # a slice's ends are the hard cases
    was = int(group.place[row])
    other = data.draw(st.integers(0, conserved_model.population.places.n - 1).filter(lambda p: p != was))
    group.place[row] = other
    try:
        with pytest.raises(InvariantError, match="count changed"):
            conserved_model.check_invariants()
    finally:
        group.place[row] = was
    conserved_model.check_invariants()


# ------------------------------------------------ D1: cold homes move youth mental health


def _mean_late(model: PfppModel, name: str, months: int = 24) -> float:
    young = model.population.places.real_young_people
    return float(np.mean([np.dot(r[name], young) / young.sum() for r in model.records[-months:]]))


def test_lowering_fuel_poverty_without_mental_health_funding_lowers_youth_mental_disorder():
    # Given no mental-health funding in either, a large formula-funded retrofit and
    # bill-support budget lowers fuel poverty and so, through cold homes (E50), the
    # prevalence of probable mental disorder among young people.
    base = small(horizon=48, **{
        "programmes.youth_mental_health.budget.value": 0.0, "levers.competitive_share": 0.0,
        "run.min_young_people_per_place": 4000,
    })
    warm = base.with_overrides({
        "programmes.home_upgrade.budget.value": 600.0, "programmes.household_support.budget.value": 200.0,
    })
    cold_runs, warm_runs = replicates(base), replicates(warm)
    low, high = paired_ci([_mean_late(m, "fuel_poverty_rate") for m in warm_runs], [_mean_late(m, "fuel_poverty_rate") for m in cold_runs])
    assert high < 0, ("fuel poverty", low, high)
    low, high = paired_ci([_mean_late(m, "youth_mh_rate") for m in warm_runs], [_mean_late(m, "youth_mh_rate") for m in cold_runs])
    assert high < 0, ("youth mental disorder", low, high)


def test_the_siloed_baseline_tracks_the_exogenous_prevalence_path(siloed_runs):
    model = siloed_runs[0]
    simulated = np.array([np.dot(r["youth_mh_rate"], model.population.places.real_young_people) for r in model.records])
    simulated /= model.population.places.real_young_people.sum()
    gap = simulated - model.exo.mh_prevalence
    assert np.abs(gap[12:]).mean() < 0.02, np.abs(gap[12:]).mean()


# ------------------------------------------------------------- M4: shared data


@pytest.mark.parametrize(("ceiling", "share"), [(0.0, 0.0), (1.0, 1.0)], ids=["no_match", "perfect_match"])
def test_shared_data_find_fuel_poor_homes_only_as_far_as_the_match_ceiling(ceiling, share):
    # Given outreach that never finds a fuel-poor home by itself and all data shared, the
    # share of retrofits reaching fuel-poor homes is the ceiling of what the data match.
    sc = small(
        horizon=24,
        **{
            "levers.data_sharing": 1.0,
            "levers.competitive_share": 0.0,
            "mechanisms.outreach_hit_rate.value": 0.0,
            "mechanisms.data_match_ceiling.value": ceiling,
        },
    )
    model = PfppModel(sc, seed=SEED).run()
    assert total(model, "retrofits") > 0
    assert total(model, "retrofits_to_fuel_poor") == pytest.approx(share * total(model, "retrofits"), abs=1e-9)


# ----------------------------------------------------------- starting state (run-in)


def without_churn(name: str, horizon: int = 12):
    return small(name, horizon, **{"mechanisms.stream_churn.value": 0.0})


def test_councils_start_knowing_the_teams_of_every_department_they_worked_with():
    model = PfppModel(without_churn("siloed_baseline"), seed=SEED)
    departments = {p.department for p in model.scenario.programmes.values()}
    for council in model.councils:
        assert all(council.has_contact(d, 0) for d in departments), council.contact_from


def test_every_council_bids_in_the_first_competitive_windows_of_the_run():
    model = PfppModel(without_churn("siloed_baseline"), seed=SEED).run()
    assert not [text for _, text in model.events if "no contact yet" in text]
    first_year_bids = sum(record["bids"] for record in model.records)
    assert np.all(first_year_bids >= 1), first_year_bids


def test_aligned_rounds_award_every_council_in_month_zero():
    # Given aligned timelines, every round of the first funding period is awarded in
    # month 0, and every council bids for every large competitive one (a small grant may
    # not be worth its bid cost) without missing a window for want of contact.
    model = PfppModel(without_churn("pfpp_joined_up"), seed=SEED)
    model.step()
    assert not [text for month, text in model.events if month == 0 and "no contact yet" in text]
    large = [k for k, p in model.scenario.programmes.items() if p.competitive_share > 0 and p.grant_count == 1]
    assert np.all(model.records[0]["bids"] >= len(large)), model.records[0]["bids"]
    formula = {k for k, p in model.scenario.programmes.items() if p.competitive_share < 1}
    for place in range(model.population.places.n):
        awarded = {a.programme for a in model.awards if a.place == place and a.award_month == 0 and a.period_start == 0}
        assert formula <= awarded, (place, awarded)


@pytest.mark.parametrize("name", ["funding_simplification", "stop_start"])
def test_from_month_zero_streams_follow_the_runs_funding_period_and_competition(name):
    from pfpp_sim.agents import Department

    model = PfppModel(small(name, 12), seed=SEED)
    levers = model.scenario.levers
    for department in model.agents_by_type[Department]:
        for s in department.streams:
            assert (s.period_months, s.competitive_share) == (levers.funding_period_months, levers.competitive_share)
            if s.next_round is not None:
                assert s.next_round.deadline - s.next_round.period_start == levers.funding_period_months


def test_an_aligned_round_whose_period_began_before_the_start_is_awarded_in_month_zero():
    # Given a start in May, the rounds of the financial year that began in April are
    # still to be awarded (siloed lags); aligned from month 0, they are awarded at once.
    model = PfppModel(small("pfpp_joined_up", 12, **{"run.start": "2021-05", "mechanisms.stream_churn.value": 0.0}), seed=SEED)
    model.step()
    formula = {k for k, p in model.scenario.programmes.items() if p.competitive_share < 1}
    awarded = {a.programme for a in model.awards if a.award_month == 0 and a.period_start == -1}
    assert formula <= awarded, awarded


@pytest.mark.parametrize("name", ["pfpp_joined_up", "pfpp_as_delivered"])
def test_the_run_in_is_the_same_for_every_scenario_on_the_same_seed(name):
    # Other levers, or a new stream that opens at the start, leave the years before alone.
    siloed, other = (PfppModel(small(n, horizon=12, **{"run.start": "2021-10"}), seed=SEED) for n in ("siloed_baseline", name))
    for a, b in zip(siloed.councils, other.councils, strict=True):
        assert a.trust == b.trust
        assert a.team_until == b.team_until

    def ledger(model):
        return [(a.programme, a.place, a.allocated_p, a.held_p, a.ready, a.deadline) for a in model.awards]

    assert ledger(siloed) and ledger(siloed) == ledger(other)


def test_the_run_in_draws_from_its_own_stream_and_the_run_starts_on_fresh_month_zero_streams(monkeypatch):
    import pfpp_sim.model as model_module
    from pfpp_sim.streams import stream

    asked = []

    def recording(seed, replicate, name, month=None):
        asked.append((name, month))
        return stream(seed, replicate, name, month)

    monkeypatch.setattr(model_module, "stream", recording)
    model = PfppModel(small(horizon=12), seed=SEED)
    assert [month for name, month in asked if name == "run_in"] == list(range(model.run_in_months, 0, -1))
    assert {month for name, month in asked if name == "departments"} == {0}
    assert model.rng_departments.random() == stream(SEED, 0, "departments", 0).random()


def test_the_run_in_serves_no_resident_and_leaves_no_month_or_event_in_the_outputs():
    model = PfppModel(small(horizon=12), seed=SEED)
    assert model.run_in_months > 0
    assert not model.recipients.had.any()
    assert not model.awards, "every round before an April start ends in March; its clawback belongs to the years before"
    assert not model.events and not model.records
    model.run()
    assert len(model.records) == 12
    assert min(a.award_month for a in model.awards) >= 0
    assert min(month for month, _ in model.events) >= 0


def test_money_held_at_the_start_is_counted_as_brought_into_month_zero():
    # Given a run starting in October, half way through the financial year, awards made
    # before the start enter the run holding what they had left, and the accounts count
    # that money as allocated in month 0.
    model = PfppModel(small(horizon=12, **{"run.start": "2021-10"}), seed=SEED)
    carried = list(model.awards)
    assert carried and all(a.delivered_p == a.overhead_p == a.returned_p == 0 < a.allocated_p == a.held_total_p for a in carried)

    def by_place(awards):
        return np.bincount([a.place for a in awards], [a.allocated_p / 100 for a in awards], minlength=len(PLACES))

    brought = by_place(carried)
    model.step()
    np.testing.assert_allclose(model.records[0]["allocated_gbp"], brought + by_place(model.awards[len(carried) :]))


# ------------------------------------------------------------------- presets


def test_pfpp_as_delivered_gives_each_council_one_two_year_grant_and_pools_nothing():
    model = PfppModel(small("pfpp_as_delivered"), seed=SEED).run()
    grant = model.scenario.programmes["pfpp_grant"]
    awards = [a for a in model.awards if a.programme == "pfpp_grant"]
    assert sorted(a.place for a in awards) == list(range(len(PLACES)))
    for award in awards:
        assert award.allocated_p == round(grant.budget.value * 2 * 100)  # GBP a council a year, for two years
        assert (award.period_start, award.award_month, award.deadline) == (0, round(grant.award_lag.value), 24)
    assert not any(a.pooled for a in model.awards)
    assert model.scenario.levers.senior_contact and model.scenario.levers.funding_mapping


def test_a_finished_model_is_freed_when_nothing_refers_to_it():
    # Long sweeps, explanations and robustness runs create thousands of models in one worker.
    model = PfppModel(small(horizon=3), seed=SEED).run()
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None, "something still holds the model (Mesa's class-level agent counter did)"
