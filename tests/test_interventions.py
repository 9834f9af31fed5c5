"""What delivered interventions do to residents, how long it lasts, and when residents become eligible again."""

from __future__ import annotations

import numpy as np
import pytest

from pfpp_sim.interventions import PendingEffects, apply_effects, support_until
from pfpp_sim.model import PfppModel
from pfpp_sim.scenario import INTERVENTION_KEYS, KEY_INDEX, load_scenario
from pfpp_sim.targeting import RecipientRecords, TargetGroups, Targeting, select_recipients


@pytest.fixture()
def model() -> PfppModel:
    scenario = load_scenario("siloed_baseline").with_overrides({"run.places": ["E07000062"], "run.horizon_months": 36})
    return PfppModel(scenario, seed=5)


def test_two_deliveries_of_income_advice_do_not_double_the_gain_and_the_gain_ends_after_its_duration(model):
    untouched = PfppModel(model.scenario, seed=5)  # the same households, never advised
    homes = np.arange(0, 40, 4)
    gain, months = model.effect["income_advice"], model.duration["income_advice"]
    assert gain > 0 and months > 0
    rng = np.random.default_rng(0)

    def gain_at(t: int) -> np.ndarray:
        return model.residents.update_fuel_poverty(t)[homes] - untouched.residents.update_fuel_poverty(t)[homes]

    apply_effects([("income_advice", homes)], model.population, model.effect, model.duration, 0, rng)
    np.testing.assert_allclose(gain_at(0), gain)
    apply_effects([("income_advice", homes)], model.population, model.effect, model.duration, 2, rng)
    np.testing.assert_allclose(gain_at(2), gain)  # renewed, not doubled
    # Renewed at month 2, it lasts its duration from then, and then ends.
    np.testing.assert_allclose(gain_at(2 + months - 1), gain)
    np.testing.assert_allclose(gain_at(2 + months), 0.0, atol=1e-9)


def _only(key: str, members: np.ndarray) -> TargetGroups:
    """Groups in which ``members`` (of place 0) are the only reachable residents for ``key``."""
    shape = (len(INTERVENTION_KEYS), 1)
    in_start, in_size, out_start, out_size = (np.zeros(shape, dtype=np.int64) for _ in range(4))
    in_size[KEY_INDEX[key], 0] = members.size
    return TargetGroups(np.concatenate([members, np.zeros(members.size, dtype=members.dtype)]), members.size,
                        in_start, in_size, out_start, out_size)


def _serve(model, key, members, bit):
    targeting = Targeting(precision=np.ones(1), sees_others=0.0, bundle_first=np.zeros(1, dtype=bool),
                          known_bits=np.array([bit], dtype=np.uint16), stream_bit=np.array([bit], dtype=np.uint16))
    return select_recipients(np.array([KEY_INDEX[key]]), np.array([0]), np.array([members.size]), _only(key, members),
                             model.recipients, targeting, np.random.default_rng(bit))


@pytest.mark.parametrize("key", ["bill_support", "income_advice", "careers_guidance", "employment_support"])
def test_support_that_has_ended_can_be_given_again_without_counting_as_duplicated_spend(model, key):
    model.recipients = RecipientRecords(model.population.households.n, model.population.young.n)  # no one served before
    pop, records = model.population, model.recipients
    people = pop.households if key in ("bill_support", "income_advice") else pop.young
    members = np.arange(3, 3 + 5 * 7, 7)[:5]
    months = model.duration[key]
    first = _serve(model, key, members, bit=1)
    assert first.served[0] == 5 and first.duplicated[0] == 0
    apply_effects([(key, first.recipients)], pop, model.effect, model.duration, 0, np.random.default_rng(0), records=records)
    assert (support_until(pop)[key][members] == months).all()
    # During the support another stream serves them again: duplicated spend.
    during = _serve(model, key, members, bit=2)
    assert during.served[0] == 5 and during.duplicated[0] == 5 and during.recipients.size == 0
    records.expire(months - 1, support_until(pop))
    assert records.received[key][members].all(), "still supported in its last month"
    # Once it has ended they are eligible again, for both streams, and it is not duplication.
    records.expire(months, support_until(pop))
    assert not records.received[key][members].any() and not records.served_by[key][members].any()
    again = _serve(model, key, members, bit=2)
    assert again.served[0] == 5 and again.duplicated[0] == 0 and again.recipients.size == 5
    assert people.n > members.max()


def test_an_expiry_does_not_clear_a_resident_whose_support_was_renewed_since(model):
    pop, records = model.population, model.recipients
    members = np.array([10, 20, 30])
    _serve(model, "bill_support", members, bit=1)
    apply_effects([("bill_support", members)], pop, model.effect, model.duration, 0, np.random.default_rng(0), records=records)
    pop.households.bill_support_until[members[0]] = 40  # renewed: its support now ends later
    records.expire(model.duration["bill_support"], support_until(pop))
    np.testing.assert_array_equal(records.received["bill_support"][members], [True, False, False])


@pytest.mark.parametrize(("effect", "bands_after"), [(1.0, [0, 2, 2, 2, 2]), (0.0, [0, 2, 2, 3, 5])], ids=["to_band_c", "one_band_up"])
def test_a_retrofit_lifts_a_home_of_band_d_or_worse_to_band_c_with_the_effect_probability_else_one_band(model, effect, bands_after):
    # Homes of bands A, C, D, E and G: A and C are not retrofitted.
    h = model.population.households
    homes = np.arange(5)
    h.band[homes] = [0, 2, 3, 4, 6]
    apply_effects([("retrofit", homes)], model.population, {**model.effect, "retrofit": effect}, model.duration, 0, np.random.default_rng(0))
    assert h.band[homes].tolist() == bands_after and h.band.dtype == np.uint8


@pytest.mark.parametrize("effect", [0.0, 1.0])
def test_the_mental_health_hub_helps_each_young_person_with_a_disorder_recover_with_the_effect_probability(model, effect):
    y = model.population.young
    people = np.arange(6)
    y.mh_disorder[people] = True
    apply_effects([("mh_hub", people)], model.population, {**model.effect, "mh_hub": effect}, model.duration, 0, np.random.default_rng(0))
    assert y.mh_disorder[people].tolist() == [effect == 0.0] * 6


def test_bill_support_pays_its_amount_until_its_duration_is_over_and_leaves_other_homes_alone(model):
    h = model.population.households
    before = h.bill_support.copy(), h.bill_support_until.copy()
    homes = np.array([2, 5])
    apply_effects([("bill_support", homes)], model.population, model.effect, model.duration, 7, np.random.default_rng(0))
    assert h.bill_support[homes].tolist() == [pytest.approx(model.effect["bill_support"])] * 2
    assert h.bill_support_until[homes].tolist() == [7 + model.duration["bill_support"]] * 2
    others = np.setdiff1d(np.arange(h.n), homes)
    np.testing.assert_array_equal(h.bill_support[others], before[0][others])
    np.testing.assert_array_equal(h.bill_support_until[others], before[1][others])


def test_effects_wait_for_their_month_and_nobody_is_queued_for_an_empty_delivery():
    pending = PendingEffects()
    pending.add(3, "retrofit", np.array([1, 2]))
    pending.add(3, "mh_hub", np.array([4]))
    pending.add(5, "retrofit", np.array([], dtype=np.int64))
    assert pending.pop(2) == [] and 5 not in pending.due
    due = pending.pop(3)
    assert [(key, idx.tolist()) for key, idx in due] == [("retrofit", [1, 2]), ("mh_hub", [4])]
    assert pending.pop(3) == []


def test_each_recipient_of_a_retrofit_or_the_hub_draws_its_own_outcome(model):
    # Given an effect of one half, forty recipients do not all fare alike.
    h, y = model.population.households, model.population.young
    homes, people = np.arange(40), np.arange(40)
    h.band[homes] = 4  # band E
    y.mh_disorder[people] = True
    effects = {**model.effect, "retrofit": 0.5, "mh_hub": 0.5}
    apply_effects([("retrofit", homes), ("mh_hub", people)], model.population, effects, model.duration, 0, np.random.default_rng(0))
    assert set(h.band[homes].tolist()) == {2, 3}  # to band C, or one band up to D
    assert set(y.mh_disorder[people].tolist()) == {True, False}
