"""Behaviour of batched targeting (``select_recipients``): M4 precision, M7 duplication, M8 bundling."""

from __future__ import annotations

import copy
import pickle
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfpp_sim.model import PfppModel
from pfpp_sim.population import (
    AGE_18,
    BAND_D,
    EDUCATION,
    EMPLOYED,
    ILO_INACTIVE,
    ILO_UNEMPLOYED,
    NEET,
    Households,
    PlaceTable,
    Population,
    YoungPeople,
    place_blocks,
)
from pfpp_sim.scenario import INTERVENTION_KEYS, load_scenario
from pfpp_sim.targeting import (
    COMPLEMENTS,
    KEY_INDEX,
    WAVES,
    ListingBuffer,
    RecipientRecords,
    TargetGroups,
    Targeting,
    _waves,
    order_precision,
    select_recipients,
    target_groups,
    targeting_precision,
)

KEY = "retrofit"


def world(seed: int, n: int = 60, places: int = 1, had_share: float = 0.4):
    """``places`` places of ``n`` households; random groups, past recipients and complement recipients."""
    rng = np.random.default_rng(seed)
    total = n * places
    reachable = rng.random(total) < 0.85
    intended = reachable & (rng.random(total) < 0.4)
    records = RecipientRecords(total, total)
    records.received[KEY][:] = rng.random(total) < had_share
    records.served_by[KEY][:] = np.where(records.received[KEY], rng.choice([1, 2, 4], total), 0)
    records.received[COMPLEMENTS[KEY]][:] = rng.random(total) < 0.3
    return reachable, intended, records


def groups_of(reachable, intended, places: int) -> TargetGroups:
    k, n = KEY_INDEX[KEY], reachable.size // places
    shape = (len(INTERVENTION_KEYS), places)
    in_start, in_size, out_start, out_size = (np.zeros(shape, dtype=np.int64) for _ in range(4))
    parts, filled = [], 0
    for mask, start, size in ((reachable & intended, in_start, in_size), (reachable & ~intended, out_start, out_size)):
        members = np.flatnonzero(mask)
        edges = np.searchsorted(members, np.arange(places + 1) * n)
        start[k], size[k] = filled + edges[:-1], np.diff(edges)
        parts.append(members)
        filled += members.size
    spare = int(in_size.sum())
    return TargetGroups(np.concatenate([*parts, np.zeros(spare, dtype=np.int64)]), filled, in_start, in_size, out_start, out_size)


def targeting(count: int = 1, *, precision=0.6, sees=0.5, pooled=False, known=1, bit=1) -> Targeting:
    return Targeting(
        precision=np.full(count, precision),
        sees_others=sees,
        bundle_first=np.full(count, pooled),
        known_bits=np.full(count, known, dtype=np.uint16),
        stream_bit=np.full(count, bit, dtype=np.uint16),
    )


def select(records, groups, n, tg, rng, places=(0,)):
    places = np.asarray(places)
    keys = np.full(places.size, KEY_INDEX[KEY])
    return select_recipients(keys, places, np.asarray(n), groups, records, tg, rng)


def reference(n, reachable, intended, records, precision, sees, bundle, known, rng):
    """The one-request-at-a-time algorithm the batched one replaces (pfpp_sim 0.x)."""
    had = records.received[KEY].copy()
    own = (records.served_by[KEY] & known) != 0
    open_ = reachable & ~own & ~(had & ~own & (rng.random(had.size) < sees))
    pool_in, pool_out = np.flatnonzero(open_ & intended), np.flatnonzero(open_ & ~intended)
    n_in = min(int(rng.binomial(n, precision)), pool_in.size)
    n_out = min(n - n_in, pool_out.size)
    if n_in + n_out < n:
        n_in = min(n - n_out, pool_in.size)
    if bundle and n_in:
        partner = records.received[COMPLEMENTS[KEY]][pool_in]
        chosen_in = np.concatenate([rng.permutation(pool_in[partner]), rng.permutation(pool_in[~partner])])[:n_in]
    else:
        chosen_in = rng.choice(pool_in, size=n_in, replace=False)
    return np.concatenate([chosen_in, rng.choice(pool_out, size=n_out, replace=False)]).astype(np.int64)


@pytest.mark.parametrize(
    ("case", "n", "precision", "sees", "pooled", "known"),
    [
        ("siloed, data shared", 5, 0.6, 0.5, False, 1),
        ("pooled, knows two streams", 6, 0.7, 0.5, True, 3),
        ("siloed, groups run short", 30, 0.5, 0.0, False, 1),
    ],
)
def test_batched_targeting_chooses_like_the_one_request_algorithm(case, n, precision, sees, pooled, known):
    reachable, intended, start = world(3, n=50)
    classes = (
        intended * 8 + start.received[KEY] * 4 + ((start.served_by[KEY] & known) != 0) * 2 + start.received[COMPLEMENTS[KEY]]
    )
    reps = 3_000
    counts = {"reference": np.zeros((reps, 16)), "batched": np.zeros((reps, 16))}
    rng_ref, rng_new = np.random.default_rng(11), np.random.default_rng(12)
    for rep in range(reps):
        chosen = reference(n, reachable, intended, start, precision, sees, pooled, known, rng_ref)
        counts["reference"][rep] = np.bincount(classes[chosen], minlength=16)
        records = RecipientRecords(reachable.size, reachable.size)
        records.had[:], records.streams[:] = start.had, start.streams
        select(
            records,
            groups_of(reachable, intended, 1),
            [n],
            targeting(precision=precision, sees=sees, pooled=pooled, known=known),
            rng_new,
        )
        served = np.flatnonzero(records.served_by[KEY] != start.served_by[KEY])
        counts["batched"][rep] = np.bincount(classes[served], minlength=16)
    a, b = counts["reference"], counts["batched"]
    se = np.sqrt(a.var(axis=0) / reps + b.var(axis=0) / reps)
    z = np.divide(a.mean(axis=0) - b.mean(axis=0), se, out=np.zeros(16), where=se > 0)
    assert np.abs(z).max() < 4.5, (case, z.round(1))


@pytest.mark.parametrize(("beyond", "edge"), [(1.7, 1.0), (-0.4, 0.0)])
def test_a_precision_above_one_or_below_zero_chooses_as_one_or_zero_does(beyond, edge):
    reachable, intended, start = world(8, n=200)
    chosen = {}
    for precision in (beyond, edge):
        records = copy.deepcopy(start)
        delivery = select(records, groups_of(reachable, intended, 1), [12], targeting(precision=precision), np.random.default_rng(3))
        chosen[precision] = (delivery.recipients.tolist(), delivery.intended.tolist())
    assert chosen[beyond] == chosen[edge]


def test_a_team_never_serves_its_own_past_recipients_again_and_records_whom_it_served():
    reachable, intended, records = world(5)
    own_before = (records.served_by[KEY] & 1) != 0
    delivery = select(
        records, groups_of(reachable, intended, 1), [10], targeting(bit=1, known=1), np.random.default_rng(0)
    )
    newly = ((records.served_by[KEY] & 1) != 0) & ~own_before
    assert delivery.served[0] == 10 == newly.sum()  # all ten are new to the team
    assert reachable[newly].all() and records.received[KEY][newly].all()


def test_with_all_data_shared_no_one_is_served_twice_and_without_it_some_are():
    reachable, intended, records = world(6, n=400, had_share=0.5)
    shared = select(
        records, groups_of(reachable, intended, 1), [40], targeting(sees=1.0, known=8, bit=8), np.random.default_rng(1)
    )
    assert shared.duplicated[0] == 0
    reachable, intended, records = world(6, n=400, had_share=0.5)
    blind = select(
        records, groups_of(reachable, intended, 1), [40], targeting(sees=0.0, known=8, bit=8), np.random.default_rng(1)
    )
    assert blind.duplicated[0] > 0
    assert blind.recipients.size == blind.served[0] - blind.duplicated[0]


def test_a_pooled_team_serves_the_complements_recipients_first():
    reachable, intended, records = world(7, n=600, had_share=0.0)
    partner = records.received[COMPLEMENTS[KEY]]
    open_partners = int((reachable & intended & partner).sum())
    assert open_partners > 8
    select(
        records,
        groups_of(reachable, intended, 1),
        [8],
        targeting(precision=1.0, pooled=True, bit=2, known=2),
        np.random.default_rng(2),
    )
    served = records.received[KEY]
    assert served.sum() == 8
    assert partner[served].all()


def test_requests_in_several_places_stay_in_their_place_and_repeat_with_the_same_seed():
    reachable, intended, records = world(8, n=200, places=3)
    results = []
    for _ in range(2):
        _, _, records = world(8, n=200, places=3)
        groups = groups_of(reachable, intended, 3)
        delivery = select(records, groups, [5, 9, 0], targeting(3, known=16, bit=16), np.random.default_rng(3), places=(0, 1, 2))
        served = np.flatnonzero((records.served_by[KEY] & 16) != 0)
        results.append(served)
        np.testing.assert_array_equal(delivery.served, [5, 9, 0])
        assert delivery.duplicated.shape == delivery.intended.shape == (3,), "one entry per request, the last serving none too"
        np.testing.assert_array_equal(np.bincount(served // 200, minlength=3), [5, 9, 0])
    np.testing.assert_array_equal(results[0], results[1])


def test_an_intervention_is_delivered_after_its_complement_when_the_complement_comes_first():
    for key, wave in zip(INTERVENTION_KEYS, WAVES):
        complement = COMPLEMENTS[key]
        if INTERVENTION_KEYS.index(complement) < INTERVENTION_KEYS.index(key):
            assert wave > WAVES[KEY_INDEX[complement]], key


def test_each_intervention_has_its_wave_within_a_round_of_delivery():
    expected = {"retrofit": 0, "income_advice": 1, "bill_support": 1, "careers_guidance": 0,
                "employment_support": 0, "mh_hub": 1, "asb_outreach": 1}  # after retrofit, employment support
    assert dict(zip(INTERVENTION_KEYS, _waves())) == expected
    assert WAVES == _waves()


def test_support_that_ends_is_forgotten_unless_renewed_since():
    records = RecipientRecords(n_households=5, n_young=4)
    for key, served in (("bill_support", [1, 3]), ("employment_support", [0, 2])):
        records.received[key][served] = True
        records.served_by[key][served] = 0b101
    until = {"bill_support": np.array([0, 6, 0, 9, 0]), "employment_support": np.array([6, 0, 6, 0])}
    records.expire_at(6, "bill_support", np.array([1, 3]))  # resident 3 renewed since: now until month 9
    records.expire_at(6, "employment_support", np.array([0, 2]))
    records.expire(5, until)
    assert records.received["bill_support"][[1, 3]].all(), "nothing ends before its month"
    records.expire(6, until)
    assert records.received["bill_support"].tolist() == [False, False, False, True, False]
    assert records.served_by["bill_support"].tolist() == [0, 0, 0, 0b101, 0]
    assert not records.received["employment_support"].any() and not records.served_by["employment_support"].any()
    assert not records.had[: records.base[KEY_INDEX["bill_support"]]].any(), "other interventions' records untouched"


def test_shared_data_raise_precision_towards_a_match_ceiling_below_one():
    # M4: administrative data close only part of the gap between outreach and perfect targeting.
    assert targeting_precision(0.35, 0.0, 0.6) == 0.35
    assert targeting_precision(0.35, 0.5, 0.6) == pytest.approx(0.35 + 0.65 * 0.5 * 0.6, abs=1e-15)
    assert targeting_precision(0.35, 1.0, 0.6) == pytest.approx(0.74, abs=1e-15)
    assert targeting_precision(0.35, 1.0, 0.6) < 1.0


def test_a_pooled_teams_orders_are_targeted_less_precisely_by_the_pooled_penalty():
    precision = order_precision(np.array([False, True]), hit_rate=0.35, data_sharing=1.0, match_ceiling=0.6, pooled_penalty=0.5)
    assert precision.tolist() == [pytest.approx(0.74, abs=1e-15), pytest.approx(0.37, abs=1e-15)]


def test_employment_support_is_intended_for_neet_young_people_seeking_work():
    # Given a run's residents, expect employment support's intended group to be exactly the
    # NEET young people seeking work (ILO unemployed), and inactive NEET young people to be
    # reachable but not intended.
    model = PfppModel(load_scenario("siloed_baseline").with_overrides({"run.places": ["E07000062", "E06000032"], "run.horizon_months": 1}), seed=3)
    y = model.population.young
    groups = target_groups(model.population, ["employment_support"], cold=model.residents.cold_home)
    k = KEY_INDEX["employment_support"]
    intended = np.concatenate([
        groups.candidates[s : s + n] for s, n in zip(groups.in_start[k].tolist(), groups.in_size[k].tolist())
    ])
    others = np.concatenate([
        groups.candidates[s : s + n] for s, n in zip(groups.out_start[k].tolist(), groups.out_size[k].tolist())
    ])
    seekers = np.flatnonzero((y.status == NEET) & (y.ilo_status == ILO_UNEMPLOYED))
    inactive_neet = np.flatnonzero((y.status == NEET) & (y.ilo_status == ILO_INACTIVE))
    assert seekers.size > 50 and inactive_neet.size > 50
    np.testing.assert_array_equal(np.sort(intended), seekers)
    assert np.isin(inactive_neet, others).all()


def plain_groups(pop, cold):
    """Each intervention's reachable and intended (a subset of the reachable) residents, as masks of every resident."""
    h, y = pop.households, pop.young
    everyone_h, everyone_y = np.ones(h.n, dtype=bool), np.ones(y.n, dtype=bool)
    careers = (y.status != NEET) & (y.age_months < 240)
    return {
        "retrofit": (h.band >= BAND_D, (h.band >= BAND_D) & h.fuel_poor),
        "income_advice": (everyone_h, h.fuel_poor),
        "bill_support": (everyone_h, h.fuel_poor),
        "careers_guidance": (careers, careers & (y.mh_disorder | cold)),
        "employment_support": ((y.status != EDUCATION) | (y.age_months >= AGE_18), (y.status == NEET) & (y.ilo_status == ILO_UNEMPLOYED)),
        "mh_hub": (everyone_y, y.mh_disorder),
        "asb_outreach": (everyone_y, (y.status == NEET) | cold),
    }


def test_every_intervention_lists_its_own_intended_and_other_reachable_residents_in_each_place():
    scenario = load_scenario("siloed_baseline").with_overrides({"run.places": ["E07000062", "E06000032"], "run.horizon_months": 1})
    pop = PfppModel(scenario, seed=4).population
    h, y = pop.households, pop.young
    expected = plain_groups(pop, h.fuel_poor[y.household])
    groups = target_groups(pop)
    for k, key in enumerate(INTERVENTION_KEYS):
        reachable, intended = expected[key]
        people = h if key in ("retrofit", "income_advice", "bill_support") else y
        for p, place in enumerate(people.slices):
            listed_in = groups.candidates[groups.in_start[k, p] : groups.in_start[k, p] + groups.in_size[k, p]]
            listed_out = groups.candidates[groups.out_start[k, p] : groups.out_start[k, p] + groups.out_size[k, p]]
            np.testing.assert_array_equal(listed_in, place.start + np.flatnonzero(intended[place]), err_msg=key)
            np.testing.assert_array_equal(listed_out, place.start + np.flatnonzero((reachable & ~intended)[place]), err_msg=key)
        assert 0 < groups.in_size[k].sum() < groups.in_size[k].sum() + groups.out_size[k].sum(), key


def small_population(households_per_place: list[int], young_per_place: list[int], seed: int) -> Population:
    """Places of the given sizes whose residents' state is drawn at random over every value the groups look at."""
    rng = np.random.default_rng(seed)
    n_h, n_y, n_p = sum(households_per_place), sum(young_per_place), len(households_per_place)
    def slices(sizes):
        bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
    one = np.ones(n_p)
    places = PlaceTable(
        codes=[f"E0{p}" for p in range(n_p)], names=[f"place {p}" for p in range(n_p)], real_households=one, real_young_people=one,
        household_weight=one, youth_weight=one, income_level=one, target_fuel_poverty=0 * one, target_neet_16_17=0 * one,
        neet_18_24=0 * one, income_trend=0 * one, neet_trend=0 * one, unemployment_relative=one,
    )
    households = Households(
        place=np.repeat(np.arange(n_p), households_per_place).astype(np.int16), tenure=np.zeros(n_h, dtype=np.uint8),
        base_income=np.zeros(n_h), income_dev=np.zeros(n_h, dtype=np.float32), income_gain_until=np.zeros(n_h, dtype=np.int32),
        band=rng.integers(0, 7, n_h).astype(np.uint8), means_tested=np.zeros(n_h, dtype=bool), bill_support=np.zeros(n_h),
        bill_support_until=np.zeros(n_h, dtype=np.int32), fuel_poor=rng.random(n_h) < rng.random(),
        months_cold=np.zeros(n_h, dtype=np.int32), slices=slices(households_per_place),
    )
    ages = np.array([AGE_18 - 1, AGE_18, 239, 240, 200, 280], dtype=np.int16)  # either side of each age the groups look at
    young = YoungPeople(
        place=np.repeat(np.arange(n_p), young_per_place).astype(np.int16), household=np.zeros(n_y, dtype=np.int32),
        age_months=rng.choice(ages, n_y), status=rng.choice(np.array([EDUCATION, EMPLOYED, NEET], dtype=np.uint8), n_y),
        months_neet=np.zeros(n_y, dtype=np.int16), mh_disorder=rng.random(n_y) < rng.random(),
        careers_until=np.zeros(n_y, dtype=np.int32), ips_until=np.zeros(n_y, dtype=np.int32), asb_until=np.zeros(n_y, dtype=np.int32),
        job_search_rank=np.zeros(n_y, dtype=np.uint16), ilo_status=rng.integers(0, 3, n_y).astype(np.uint8), slices=slices(young_per_place),
    )
    return Population(places=places, households=households, young=young)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 30)), min_size=1, max_size=6),
    st.sets(st.sampled_from(INTERVENTION_KEYS)),
    st.integers(1, 80),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_the_compiled_listing_is_the_plain_listing_of_every_group_in_each_place(sizes, keys, per_block, threads, seed):
    # Given small populations with every state the groups look at (places without residents of a
    # kind included), any interventions, blocks and threads: expect every listed group's intended
    # residents, then its other reachable ones, group after group, as plain masks list them, over
    # memory that held something else, and the room for a batch's own groups after them.
    pop = small_population([h for h, _ in sizes], [y for _, y in sizes], seed)
    cold = np.random.default_rng(seed + 1).random(pop.young.n) < 0.3
    plain = plain_groups(pop, cold)
    buffer = ListingBuffer()
    buffer.take(10_000, np.int32)[:] = -1
    with ThreadPoolExecutor(2) if threads else nullcontext() as pool:
        groups = target_groups(pop, sorted(keys), cold=cold, executor=pool, blocks=place_blocks(pop, per_block), buffer=buffer)
    listed, expected, spare = set(), [], 0
    for k, key in enumerate(INTERVENTION_KEYS):
        reachable, intended = plain[key]
        people = pop.households if key in ("retrofit", "income_advice", "bill_support") else pop.young
        for p, place in enumerate(people.slices):
            listed_in = groups.candidates[groups.in_start[k, p] : groups.in_start[k, p] + groups.in_size[k, p]]
            listed_out = groups.candidates[groups.out_start[k, p] : groups.out_start[k, p] + groups.out_size[k, p]]
            if key not in keys:
                assert listed_in.size == listed_out.size == 0
                continue
            np.testing.assert_array_equal(listed_in, place.start + np.flatnonzero(intended[place]), err_msg=key)
            np.testing.assert_array_equal(listed_out, place.start + np.flatnonzero((reachable & ~intended)[place]), err_msg=key)
        if key in keys:
            spare += np.count_nonzero(intended)
            if key not in ("income_advice", "bill_support") or not listed & {"income_advice", "bill_support"}:
                expected += [np.flatnonzero(intended), np.flatnonzero(reachable & ~intended)]
            listed.add(key)
    np.testing.assert_array_equal(groups.candidates[: groups.spare], np.concatenate([np.zeros(0, dtype=np.int64)] + expected))
    assert groups.candidates.size == groups.spare + spare


def test_groups_listed_block_by_block_into_kept_memory_are_the_groups_listed_at_once():
    scenario = load_scenario("siloed_baseline").with_overrides({"run.places": ["E07000062", "E06000032", "E08000024"], "run.horizon_months": 1})
    pop = PfppModel(scenario, seed=4).population
    whole = target_groups(pop, blocks=place_blocks(pop, 10**9))
    buffer = ListingBuffer()
    target_groups(pop, ["mh_hub"], blocks=place_blocks(pop, 1), buffer=buffer)  # an earlier month's smaller listing
    by_place = target_groups(pop, blocks=place_blocks(pop, 1), buffer=buffer)  # a block a place, over that memory
    assert len(place_blocks(pop, 1)) == 3
    for name in ("in_start", "in_size", "out_start", "out_size"):
        np.testing.assert_array_equal(getattr(by_place, name), getattr(whole, name), err_msg=name)
    np.testing.assert_array_equal(by_place.candidates[: by_place.spare], whole.candidates[: whole.spare])
    assert by_place.candidates.size == whole.candidates.size and by_place.spare == whole.spare


def test_a_pooled_team_wanting_more_than_the_complements_recipients_serves_each_resident_once():
    reachable, intended, records = world(9, n=300, had_share=0.0)
    partners = int((reachable & intended & records.received[COMPLEMENTS[KEY]]).sum())
    want = partners + 10
    delivery = select(records, groups_of(reachable, intended, 1), [want], targeting(precision=1.0, pooled=True, bit=2, known=2),
                      np.random.default_rng(4))
    assert np.unique(delivery.recipients).size == delivery.recipients.size == want == delivery.served[0]
    assert records.received[KEY].sum() == want and delivery.intended[0] == want


@pytest.mark.parametrize("precision", [0.0, 0.5, 1.0])
def test_when_a_first_look_finds_too_few_open_residents_the_walk_goes_on_until_it_has_enough(precision):
    rng = np.random.default_rng(10)
    total = 3000
    reachable = np.ones(total, dtype=bool)
    intended = rng.random(total) < 0.5
    records = RecipientRecords(total, total)
    records.received[KEY][:] = rng.random(total) < 0.97  # the team itself served nearly everyone already
    records.served_by[KEY][:] = np.where(records.received[KEY], 1, 0)
    open_before = ~records.received[KEY]
    assert 40 < open_before.sum() < 140 and open_before[intended].sum() > 25 and open_before[~intended].sum() > 25
    delivery = select(records, groups_of(reachable, intended, 1), [25], targeting(precision=precision, sees=0.0, known=1, bit=1),
                      np.random.default_rng(5))
    served = delivery.recipients
    assert delivery.served[0] == 25 == served.size == np.unique(served).size
    assert open_before[served].all(), "only residents the team had not served"
    assert delivery.duplicated[0] == 0 and delivery.intended[0] == intended[served].sum()
    if precision in (0.0, 1.0):
        assert intended[served].all() == bool(precision) and (~intended[served]).all() == (not precision)


def test_a_pooled_team_whose_first_look_finds_too_few_serves_every_open_complement_recipient_first_and_each_resident_once():
    # Intended residents only; the team served nearly all of them already, so both of its walks
    # through the intended group (the complement's recipients, then the others) have to go on.
    rng = np.random.default_rng(12)
    total = 3000
    reachable, intended = np.ones(total, dtype=bool), np.ones(total, dtype=bool)
    records = RecipientRecords(total, total)
    records.received[KEY][:] = rng.random(total) < 0.97
    records.served_by[KEY][:] = np.where(records.received[KEY], 2, 0)
    records.received[COMPLEMENTS[KEY]][:] = rng.random(total) < 0.5
    open_before, partner = ~records.received[KEY], records.received[COMPLEMENTS[KEY]].copy()
    open_partners = int((open_before & partner).sum())
    assert open_partners > 15 and (open_before & ~partner).sum() > 10
    want = open_partners + 10
    delivery = select(records, groups_of(reachable, intended, 1), [want], targeting(precision=1.0, sees=0.0, pooled=True, known=2, bit=2),
                      np.random.default_rng(6))
    served = delivery.recipients
    assert delivery.served[0] == want == served.size == np.unique(served).size, "no resident is served twice"
    assert open_before[served].all() and delivery.duplicated[0] == 0
    assert partner[served].sum() == open_partners, "every open recipient of the complement first, then ten others"


def test_a_request_whose_whole_group_runs_short_serves_it_once_while_another_request_of_its_batch_walks_on():
    # Place 0: three reachable residents, one its team served already; place 1: 3,000, nearly all served.
    n = 3000
    rng = np.random.default_rng(13)
    reachable = np.r_[np.arange(n) < 3, np.ones(n, dtype=bool)]
    intended = reachable.copy()
    records = RecipientRecords(2 * n, 2 * n)
    records.received[KEY][:] = np.r_[np.arange(n) == 2, rng.random(n) < 0.97]
    records.served_by[KEY][:] = np.where(records.received[KEY], 1, 0)
    open_before = ~records.received[KEY]
    delivery = select(records, groups_of(reachable, intended, 2), [5, 25], targeting(2, precision=1.0, sees=0.0, known=1, bit=1),
                      np.random.default_rng(7), places=(0, 1))
    assert delivery.served.tolist() == [2, 25] and delivery.duplicated.tolist() == [0, 0]
    served = delivery.recipients
    assert served.size == 27 == np.unique(served).size and open_before[served].all()
    assert sorted(served[served < n].tolist()) == [0, 1]


def test_a_batch_for_young_people_and_households_records_each_delivery_at_its_own_interventions_place():
    # Two places of 10 households and 10 young people; mh_hub and pooled retrofit requests side by side.
    n = 20
    records = RecipientRecords(n, n)
    young, homes = KEY_INDEX["mh_hub"], KEY_INDEX["retrofit"]
    shape = (len(INTERVENTION_KEYS), 2)
    in_start, in_size, out_start, out_size = (np.zeros(shape, dtype=np.int64) for _ in range(4))
    lists = {  # (key, place): (intended, others)
        (young, 0): ([1, 2, 3], [4, 5]), (young, 1): ([11, 12], [13, 14, 15]),
        (homes, 0): ([0, 6], [7]), (homes, 1): ([16], [17, 18]),
    }
    parts = []
    for (k, p), (inside, outside) in lists.items():
        filled = sum(len(x) for x in parts)
        in_start[k, p], in_size[k, p] = filled, len(inside)
        out_start[k, p], out_size[k, p] = filled + len(inside), len(outside)
        parts += [inside, outside]
    flat = [c for part in parts for c in part]
    groups = TargetGroups(np.array(flat + [0] * len(flat), dtype=np.int64), len(flat), in_start, in_size, out_start, out_size)
    records.received["mh_hub"][[2, 12]] = True  # another stream (bit 4) served them
    records.served_by["mh_hub"][[2, 12]] = 4
    records.received["income_advice"][6] = True  # retrofit's complement
    tg = Targeting(
        precision=np.array([1.0, 0.0, 1.0]), sees_others=0.0, bundle_first=np.array([False, False, True]),
        known_bits=np.array([1, 1, 2], dtype=np.uint16), stream_bit=np.array([1, 1, 2], dtype=np.uint16),
    )
    delivery = select_recipients(np.array([young, young, homes]), np.array([0, 1, 0]), np.array([3, 2, 1]), groups, records, tg,
                                 np.random.default_rng(0))
    assert delivery.served.tolist() == [3, 2, 1] and delivery.intended.tolist() == [3, 0, 1]
    assert delivery.duplicated.tolist() == [1, 0, 0], "resident 2 was another stream's and nobody could know"
    new = sorted(zip(delivery.request.tolist(), delivery.recipients.tolist()))
    assert new[:2] == [(0, 1), (0, 3)] and new[-1] == (2, 6), "the pooled team serves the complement's recipient first"
    assert {r for q, r in new if q == 1} <= {13, 14, 15} and len(new) == 5
    assert np.flatnonzero(records.served_by["mh_hub"] & 1).tolist() == sorted([1, 2, 3] + [r for q, r in new if q == 1])
    assert records.served_by["mh_hub"][2] == 5 and records.served_by["retrofit"].tolist() == [2 if i == 6 else 0 for i in range(n)]
    assert records.received["retrofit"].sum() == 1 and not records.received["income_advice"][[0, 7]].any()


@pytest.mark.parametrize("copied", [copy.deepcopy, lambda records: pickle.loads(pickle.dumps(records))])
def test_a_copy_of_the_recipient_records_views_its_own_columns(copied):
    records = RecipientRecords(5, 3)
    records.received["careers_guidance"][1] = True
    records.served_by["retrofit"][4] = 6
    other = copied(records)
    other.received["careers_guidance"][2] = True
    other.served_by["retrofit"][0] = 1
    assert other.had[other.base[KEY_INDEX["careers_guidance"]] + np.array([1, 2])].all()
    assert list(other.streams[other.base[KEY_INDEX["retrofit"]] + np.array([0, 4])]) == [1, 6]
    assert not records.received["careers_guidance"][2] and records.served_by["retrofit"][0] == 0
