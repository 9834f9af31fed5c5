"""The compiled loops of ``pfpp_sim.compiled`` give what the plain rules give, to the bit."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pfpp_sim import compiled, dynamics
from pfpp_sim.outcomes import _YOUNG_MEASURES, _young_counts, _young_states
from pfpp_sim.population import AGE_16, AGE_18, AGE_25, EDUCATION, EMPLOYED, NEET, RANK_LEVELS, school_group
from pfpp_sim.streams import DrawnAhead

money = st.floats(min_value=0, max_value=200_000, allow_nan=False, width=64)
BAND_COST = np.array([0.45, 0.55, 0.76, 1.0, 1.25, 1.55, 1.9])


@st.composite
def blocks(draw):
    """A block of ``n`` households (rows from ``first``) and young people living in them, in places 0-3."""
    n = draw(st.integers(1, 40))
    m = draw(st.integers(0, 40))
    first = draw(st.integers(0, 5))
    ints = st.integers(0, 2**31 - 1)
    return SimpleNamespace(
        n=n, first=first,
        base=draw(hnp.arrays(np.float64, n, elements=st.floats(1_000, 100_000, allow_nan=False))),
        dev=draw(hnp.arrays(np.float32, n, elements=st.floats(-2, 2, width=32))),
        gain_until=draw(hnp.arrays(np.int32, n, elements=st.integers(0, 12))),
        means_tested=draw(hnp.arrays(np.bool_, n)),
        household=(first + draw(hnp.arrays(np.int64, m, elements=ints)) % n).astype(np.int32),
        status=draw(hnp.arrays(np.uint8, m, elements=st.integers(0, 2))),
        place=draw(hnp.arrays(np.int16, m, elements=st.integers(0, 3))),
        link=draw(hnp.arrays(np.float64, 4, elements=st.floats(0, 1))),
        band=draw(hnp.arrays(np.uint8, n, elements=st.integers(0, 6))),
        support_until=draw(hnp.arrays(np.int32, n, elements=st.integers(0, 12))),
        support=draw(hnp.arrays(np.float64, n, elements=st.floats(0, 3_000))),
    )


@settings(max_examples=200, deadline=None)  # the first call compiles the loop
@given(
    block=blocks(), t=st.integers(0, 12), gain=st.sampled_from([0.0, 850.5]), index=st.sampled_from([1.0, 1.0734]),
    payment=st.sampled_from([0.0, 650.0]), youth=st.floats(0, 20_000),
)
def test_compiled_incomes_equal_the_plain_rule_to_the_bit(block, t, gain, index, payment, youth):
    working = np.flatnonzero(block.status == EMPLOYED)
    employed = np.bincount(block.household[working] - block.first, weights=block.link[block.place[working]], minlength=block.n)
    expected = dynamics.household_income(
        block.base, block.dev, (block.gain_until > t) * gain, employed, youth, block.means_tested * payment, income_index=index,
    )
    got = compiled.household_incomes(
        block.base, np.exp(block.dev), index, block.gain_until, t, gain, youth, block.household, block.status, block.place,
        block.link, block.first, block.means_tested, payment,
    )
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=200, deadline=None)  # the first call compiles the loop
@given(block=blocks(), t=st.integers(0, 12), price=money, discount=st.floats(0, 500), line=money, income_scale=money)
def test_compiled_fuel_poverty_flags_equal_the_plain_rule_to_the_bit(block, t, price, discount, line, income_scale):
    income = block.base / 100_000 * income_scale
    running = block.support_until > t
    expected = dynamics.fuel_poor(
        block.band, income, dynamics.fuel_cost(block.band, price, BAND_COST, np.where(running, block.support, 0.0) + discount), line
    )
    bands = np.arange(BAND_COST.size)
    by_band = np.where(bands >= 3, dynamics.fuel_cost(bands, price, BAND_COST, 0.0 + discount), -np.inf)
    got = np.ones(block.n, dtype=bool)  # every flag is written
    compiled.flag_fuel_poor(got, block.band, income, by_band, block.support_until, block.support, t, price, BAND_COST, discount, line)
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=200, deadline=None)  # the first call compiles the loop
@given(
    block=blocks(), data=st.data(), index=st.sampled_from([1.0, 1.0734]), youth=st.floats(0, 20_000), payment=st.sampled_from([0.0, 650.0]),
    price=st.floats(0, 5_000), discount=st.floats(0, 500), line_offset=st.floats(-2_000, 2_000),
)
def test_compiled_reference_cold_homes_count_the_plain_rules_fuel_poor_homes_to_the_bit(
    block, data, index, youth, payment, price, discount, line_offset
):
    # One sampled young person per household of the block: its home's income as the reference world moves it.
    trend = data.draw(hnp.arrays(np.float64, 4, elements=st.floats(0.8, 1.25)))
    place = data.draw(hnp.arrays(np.int16, block.n, elements=st.integers(0, 3)))
    employed = data.draw(hnp.arrays(np.float64, block.n, elements=st.floats(0, 3)))
    real = block.base * np.exp(block.dev.astype(np.float64))
    income = real * trend[place] * np.float64(index)
    income += (youth * np.float64(index)) * employed + block.means_tested * np.float64(payment)
    cost = dynamics.fuel_cost(block.band, price, BAND_COST, discount)
    line = float(np.median(income - cost)) + line_offset  # some homes either side of the line
    cold = dynamics.fuel_poor(block.band, income, cost, line)
    expected = np.bincount(place[cold], minlength=4)
    got = np.zeros(4, dtype=np.int64)
    cost_by_band = dynamics.fuel_cost(np.arange(BAND_COST.size), price, BAND_COST, discount)
    compiled.reference_cold_homes(got, place, real, trend, index, youth * index, employed, block.means_tested, payment, block.band, cost_by_band, line)
    np.testing.assert_array_equal(got, expected)


@settings(deadline=None)
@given(cells=hnp.arrays(np.uint16, st.integers(0, 60), elements=st.integers(30, 59)), data=st.data())
def test_fuel_poor_cells_count_only_the_flagged_households_of_each_cell(cells, data):
    flags = data.draw(hnp.arrays(np.bool_, cells.size))
    got = compiled.fuel_poor_cells(cells, flags, 30, 30)
    np.testing.assert_array_equal(got, np.bincount(cells[flags] - 30, minlength=30))
    assert got.dtype == np.int64


@settings(deadline=None)
@given(data=st.data(), m=st.integers(0, 60), september=st.integers(0, 11))
def test_young_state_cells_give_the_plain_counts_of_each_measure(data, m, september):
    young = SimpleNamespace(
        age_months=data.draw(hnp.arrays(np.int16, m, elements=st.integers(AGE_16, AGE_25 - 1))),
        ilo_status=data.draw(hnp.arrays(np.uint8, m, elements=st.integers(0, 2))),
        status=data.draw(hnp.arrays(np.uint8, m, elements=st.integers(0, NEET))),
        mh_disorder=data.draw(hnp.arrays(np.bool_, m)),
    )
    cells = data.draw(hnp.arrays(np.int32, m, elements=st.integers(15, 44)))
    by_state = compiled.young_state_cells(cells, 15, 30, young.ilo_status, young.status, young.mh_disorder, young.age_months, september)
    expected = _young_counts(cells - 15, 30, _young_states(SimpleNamespace(young=young), slice(0, m), september))
    np.testing.assert_array_equal(by_state.astype(np.float64) @ _YOUNG_MEASURES, expected)
    assert by_state.sum() == m and by_state.dtype == np.int64


SPLIT = {"base": 0.12, "scarring": 0.3, "mh_multiplier": 0.6, "work_share": 0.55, "ips_risk_ratio_disorder": 1.63, "ips_risk_ratio_other": 1.2}
YOUNG_COLUMNS = ("status", "months_neet", "age_months", "mh_disorder", "careers_until", "ips_until", "asb_until", "rank", "ilo", "place")


def plain_young_month(young, t, draws, newcomers, cold_home, tables, by_place, effects, months_since_september, september, counted):
    """What :func:`compiled.young_month` does, by the plain rules of ``pfpp_sim.dynamics``.

    Returns the new columns, the newcomers and the young people counted by cell and measure
    as the month ends (``counted``'s cells, by the plain counts of ``pfpp_sim.outcomes``).
    """
    status, months_neet, age, mh, careers, ips, asb, rank, ilo, place = (column.copy() for column in young)
    move, mind, entry = draws
    entry_base, year_12_neet, warm, cold, unemployed_below, employed_from = by_place
    careers_effect, asb_effect, recovery, prevalence, leave_education = effects
    prevention = {"careers_effect": careers_effect, "asb_effect": asb_effect}

    def prevented(hazard):
        active = (careers > t) | (asb > t)
        hazard[active] = dynamics.neet_entry_hazard(hazard[active], careers[active] > t, asb[active] > t, **prevention)
        return hazard

    neet = np.flatnonzero(status == NEET)
    to_work, to_education = dynamics.neet_exits_looked_up(months_neet[neet], mh[neet], ips[neet] > t, age[neet], tables)
    entry_h = prevented(np.column_stack([np.zeros(len(entry_base)), entry_base])[place, school_group(age, months_since_september)])
    status, months_neet = dynamics.youth_transition(
        status, months_neet, age, to_work, to_education, entry_h, DrawnAhead(move), leave_education=leave_education,
    )
    mh = dynamics.mental_health_transition(mh, np.where(cold_home, cold[place], warm[place]), recovery, DrawnAhead(mind))
    age, status, months_neet, replaced = dynamics.age_and_replace(age, status, months_neet)
    new = np.flatnonzero(replaced)
    mh[new] = newcomers[0] < prevalence
    rank[new] = newcomers[1]
    careers[new] = ips[new] = asb[new] = 0
    if september:
        status = dynamics.september_entry(status, age, prevented(year_12_neet[place].copy()), DrawnAhead(entry))
    ilo = dynamics.ilo_status(status, rank, unemployed_below, employed_from, place)
    cells, first_cell, counts = counted
    after = SimpleNamespace(young=SimpleNamespace(age_months=age, ilo_status=ilo, status=status, mh_disorder=mh))
    by_measure = _young_counts(cells - first_cell, len(counts), _young_states(after, slice(0, age.size), 0 if september else months_since_september + 1))
    return (status, months_neet, age, mh, careers, ips, asb, rank, ilo, place), new, by_measure


def no_cells(n):
    """``counted`` for :func:`compiled.young_month`: every young person in cell 0."""
    return np.zeros(n, dtype=np.int32), 0, np.zeros((1, compiled.YOUNG_STATES), dtype=np.int64)


@st.composite
def young_blocks(draw):
    """A month's inputs to :func:`compiled.young_month`: young people of places 0-2 with their numbers and the places' tables."""
    m = draw(st.integers(0, 40))
    unit = st.floats(0, 1, exclude_max=True)
    hazard = st.floats(0, 0.3)

    def column(dtype, elements):
        return draw(hnp.arrays(dtype, m, elements=elements))

    until = st.integers(0, 8)
    young = (
        column(np.uint8, st.integers(EDUCATION, NEET)), column(np.int16, st.integers(0, 60)),
        column(np.int16, st.integers(AGE_16, AGE_25 - 1)), column(np.bool_, st.booleans()), column(np.int32, until),
        column(np.int32, until), column(np.int32, until), column(np.uint16, st.integers(0, RANK_LEVELS - 1)),
        np.zeros(m, dtype=np.uint8), column(np.int16, st.integers(0, 2)),
    )
    n_new = int(np.count_nonzero(young[2] >= AGE_25 - 1))
    seeking = draw(hnp.arrays(np.uint16, (3, 3), elements=st.integers(0, 30_000)))
    seeking[:, EMPLOYED] = 0
    job_from = np.array([draw(st.integers(30_000, RANK_LEVELS)), 0, RANK_LEVELS], dtype=np.uint16)
    by_place = (
        draw(hnp.arrays(np.float64, (3, 2), elements=hazard)), draw(hnp.arrays(np.float64, 3, elements=hazard)),
        draw(hnp.arrays(np.float64, 3, elements=hazard)), draw(hnp.arrays(np.float64, 3, elements=hazard)), seeking, job_from,
    )
    return dict(
        young=young,
        t=draw(st.integers(0, 8)),
        draws=tuple(column(np.float64, unit) for _ in range(3)),
        newcomers=(draw(hnp.arrays(np.float64, n_new, elements=unit)), draw(hnp.arrays(np.uint16, n_new))),
        cold_home=column(np.bool_, st.booleans()),
        tables=dynamics.neet_exit_tables(**SPLIT),
        by_place=by_place,
        effects=(draw(st.floats(0, 0.6)), draw(st.floats(0, 0.6)), draw(hazard), draw(hazard), draw(st.sampled_from([0.0, 0.02, 0.4]))),
        months_since_september=draw(st.integers(0, 11)),
        september=draw(st.booleans()),
        counted=(column(np.int32, st.integers(15, 44)), 15, np.zeros((30, compiled.YOUNG_STATES), dtype=np.int64)),
    )


@settings(max_examples=300, deadline=None)
@given(inputs=young_blocks())
def test_compiled_young_month_equals_the_plain_rules_to_the_bit(inputs):
    expected, expected_new, expected_counts = plain_young_month(**inputs)
    young = tuple(column.copy() for column in inputs["young"])
    new = compiled.young_month(**{**inputs, "young": young})
    for name, got, want in zip(YOUNG_COLUMNS, young, expected):
        np.testing.assert_array_equal(got, want, err_msg=name)
        assert got.dtype == want.dtype, name
    np.testing.assert_array_equal(new, expected_new)
    assert new.dtype == np.int64
    counts = inputs["counted"][2]  # counted as the month ends, with the months since September then
    np.testing.assert_array_equal(counts.astype(np.float64) @ _YOUNG_MEASURES, expected_counts)
    assert counts.sum() == young[0].size


@settings(deadline=None)
@given(
    dev=hnp.arrays(np.float32, st.integers(0, 40), elements=st.floats(-3, 3, width=32)), data=st.data(),
    persistence=st.floats(0, 1), sd=st.floats(0, 0.5),
)
def test_compiled_income_shocks_equal_the_plain_rule_to_the_bit(dev, data, persistence, sd):
    shocks = data.draw(hnp.arrays(np.float32, dev.size, elements=st.floats(-5, 5, width=32)))
    expected = dynamics.income_shock(dev, persistence, sd, DrawnAhead(shocks))
    got = dev.copy()
    compiled.income_shocks(got, np.float32(persistence), np.float32(sd), shocks)
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=200, deadline=None)  # the first call compiles the loop
@given(
    block=blocks(), data=st.data(), t=st.integers(0, 12), gain=st.sampled_from([0.0, 850.5]), index=st.sampled_from([1.0, 1.0734]),
    payment=st.sampled_from([0.0, 650.0]), youth=st.floats(0, 20_000), price=st.floats(0, 5_000), discount=st.floats(0, 500),
    line_offset=st.floats(-2_000, 2_000),
)
def test_the_households_month_flags_by_the_plain_rules_adds_a_month_cold_and_counts_the_fuel_poor_by_cell(
    block, data, t, gain, index, payment, youth, price, discount, line_offset
):
    working = np.flatnonzero(block.status == EMPLOYED)
    employed = np.bincount(block.household[working] - block.first, weights=block.link[block.place[working]], minlength=block.n)
    income = dynamics.household_income(
        block.base, block.dev, (block.gain_until > t) * gain, employed, youth * index, block.means_tested * payment, income_index=index,
    )
    cost = dynamics.fuel_cost(block.band, price, BAND_COST, np.where(block.support_until > t, block.support, 0.0) + discount)
    line = float(np.median(income - cost)) + line_offset  # some homes either side of the line
    poor = dynamics.fuel_poor(block.band, income, cost, line)
    months = data.draw(hnp.arrays(np.int32, block.n, elements=st.integers(0, 100)))
    cells = data.draw(hnp.arrays(np.uint16, block.n, elements=st.integers(20, 29)))
    bands = np.arange(BAND_COST.size)
    by_band = np.where(bands >= 3, dynamics.fuel_cost(bands, price, BAND_COST, 0.0 + discount), -np.inf)
    flags, got_months = ~poor, months.copy()  # every flag is written
    cold, counts = np.zeros(block.household.size, dtype=bool), np.zeros(10, dtype=np.int64)
    compiled.step_households(
        (block.base, block.gain_until, block.means_tested, block.band, block.support_until, block.support, flags, got_months),
        (block.household, block.status, block.place, cold), block.first, t, np.exp(block.dev),
        (index, gain, youth * index, payment, price, discount, line), (block.link, by_band, BAND_COST), (cells, 20, counts),
    )
    np.testing.assert_array_equal(flags, poor)
    np.testing.assert_array_equal(got_months, months + poor)
    np.testing.assert_array_equal(cold, poor[block.household - block.first])
    np.testing.assert_array_equal(counts, np.bincount(cells[poor] - 20, minlength=10))


def test_fuel_poverty_flags_at_their_edges():
    # Band D homes, a typical bill of 1,000 and a discount of 100: income after the band's cost is
    # compared with the line strictly, bill support counts only while it runs (until t, exclusive),
    # the support and the discount both lower the cost, and a cost is never below 0.
    t, line, price, discount = 5, 15_000.0, 1_000.0, 100.0
    band = np.full(5, 3, dtype=np.uint8)
    income = np.array([line + 900.0, line + 900.0 - 250.0, line + 500.0, line + 0.5, line + 899.0])
    support_until = np.array([0, t, t + 1, t + 1, 0], dtype=np.int32)
    support = np.array([0.0, 500.0, 500.0, 2_000.0, 0.0])
    by_band = np.where(np.arange(7) >= 3, BAND_COST * price - discount, -np.inf)
    flags = np.zeros(5, dtype=bool)
    compiled.flag_fuel_poor(flags, band, income, by_band, support_until, support, t, price, BAND_COST, discount, line)
    # At the line exactly: not poor; support ended at t: poor; running support and discount: not poor
    # (cost 400); support above the cost: cost 0, not poor at half a pound above the line; below it: poor.
    assert flags.tolist() == [False, True, False, False, True]


def test_young_people_at_the_edges_of_the_rules_move_as_the_plain_rules_move_them():
    # Young people of place 0 in the month before September: a NEET 18-year-old exactly (exits into
    # work), a NEET 16-year-old in their first NEET month (the highest exit), a NEET 20-year-old with a
    # disorder whose employment support ended this month (no boost), a Year 11 pupil with careers
    # guidance running (starts Year 12 in education) and one whose guidance ended this month (starts
    # NEET); then numbers exactly at a chance, which the rules compare strictly: a NEET 17-year-old at
    # their exit into education, a NEET 19-year-old at their exit into education or work, and a
    # newcomer replacing a 25-year-old at the prevalence of disorder.
    t, n = 3, 8
    tables = dynamics.neet_exit_tables(**SPLIT)
    leave, education, work = tables
    young = (
        np.array([NEET, NEET, NEET, EDUCATION, EDUCATION, NEET, NEET, EDUCATION], dtype=np.uint8), np.zeros(n, dtype=np.int16),
        np.array([18 * 12, 200, 240, 195, 195, 210, 230, AGE_25 - 1], dtype=np.int16), np.array([False, False, True] + [False] * 5),
        np.array([0, 0, 0, t + 1, t, 0, 0, 0], dtype=np.int32), np.array([0, 0, t, 0, 0, 0, 0, 0], dtype=np.int32),
        np.zeros(n, dtype=np.int32), np.zeros(n, dtype=np.uint16), np.zeros(n, dtype=np.uint8), np.zeros(n, dtype=np.int16),
    )
    move = np.array([0.1, 0.118, 0.08, 0.5, 0.5, leave[0], education[0] + work[0], 0.5])
    inputs = dict(
        young=young, t=t, draws=(move, np.full(n, 0.99), np.array([0.9, 0.9, 0.9, 0.4, 0.4, 0.9, 0.9, 0.9])),
        newcomers=(np.array([0.1]), np.array([7], dtype=np.uint16)), cold_home=np.zeros(n, dtype=bool), tables=tables,
        by_place=(np.zeros((1, 2)), np.array([0.5]), np.array([0.01]), np.array([0.02]), np.zeros((1, 3), dtype=np.uint16),
                  np.array([RANK_LEVELS, 0, RANK_LEVELS], dtype=np.uint16)),
        effects=(0.4, 0.3, 0.05, 0.1, 0.0), months_since_september=11, september=True, counted=no_cells(n),
    )
    expected, expected_new, _ = plain_young_month(**inputs)
    assert expected[0].tolist() == [EMPLOYED, EDUCATION, NEET, EDUCATION, NEET, NEET, NEET, EDUCATION]
    assert expected_new.tolist() == [7] and not expected[3][7]  # the newcomer has no disorder
    np.testing.assert_array_equal(compiled.young_month(**inputs), expected_new)
    for name, got, want in zip(YOUNG_COLUMNS, young, expected):
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_a_neet_young_person_with_a_disorder_leaves_at_the_rate_of_their_own_months_and_disorder():
    # Three months NEET with a disorder, aged 19, no support: a number drawn between their
    # chance of leaving and that of a month less NEET (a shorter spell leaves sooner) keeps them NEET.
    tables = dynamics.neet_exit_tables(**SPLIT)
    _, education, work = tables
    row = 2 * 3 + 1  # 3 months, with a disorder
    own, a_month_less = education[row] + work[2 * row], education[row - 2] + work[2 * (row - 2)]
    assert own < a_month_less
    young = young_people([NEET], [AGE_18 + 12], months_neet=3, mh_disorder=True)
    inputs = month_inputs(young, t=0, move=(own + a_month_less) / 2, months_since_september=0)
    expected, _, _ = plain_young_month(**inputs)
    compiled.young_month(**inputs)
    assert young[0][0] == expected[0][0] == NEET and young[1][0] == expected[1][0] == 4


def test_a_pupil_of_18_whose_number_is_exactly_one_less_the_hazard_of_leaving_education_leaves_for_work():
    # Leaving education for work when the number drawn is at least 1 - hazard: exactly there, it leaves.
    young = young_people([EDUCATION], [AGE_18 + 12])
    inputs = month_inputs(young, t=0, move=0.75, effects=(0.0, 0.0, 0.0, 0.0, 0.25), months_since_september=0)
    expected, _, _ = plain_young_month(**inputs)
    compiled.young_month(**inputs)
    assert young[0][0] == expected[0][0] == EMPLOYED


def young_people(status, age_months, *, months_neet=0, mh_disorder=False, careers_until=0, ips_until=0, asb_until=0):
    """The columns of :func:`compiled.young_month` for young people of place 0 (lists: one entry each; a single value: the same for all)."""
    n = len(status)

    def column(values, dtype):
        return np.broadcast_to(np.asarray(values, dtype=dtype), n).copy()

    return (
        column(status, np.uint8), column(months_neet, np.int16), column(age_months, np.int16), column(mh_disorder, bool),
        column(careers_until, np.int32), column(ips_until, np.int32), column(asb_until, np.int32),
        np.zeros(n, dtype=np.uint16), np.zeros(n, dtype=np.uint8), np.zeros(n, dtype=np.int16),
    )


def month_inputs(young, *, t=3, move=0.5, entry=0.9, newcomers=((), ()), entry_base=(0.0, 0.0), year_12_neet=0.0, effects=(0.0,) * 5,
                 months_since_september=5, september=False):
    """The inputs of :func:`compiled.young_month` for ``young`` (:func:`young_people`) in month ``t``, with the numbers given."""
    n = young[0].size
    return dict(
        young=young, t=t, draws=(np.broadcast_to(np.asarray(move, dtype=np.float64), n).copy(), np.full(n, 0.99),
                                 np.broadcast_to(np.asarray(entry, dtype=np.float64), n).copy()),
        newcomers=(np.array(newcomers[0], dtype=np.float64), np.array(newcomers[1], dtype=np.uint16)), cold_home=np.zeros(n, dtype=bool),
        tables=dynamics.neet_exit_tables(**SPLIT),
        by_place=(np.array([entry_base]), np.array([year_12_neet]), np.zeros(1), np.zeros(1), np.zeros((1, 3), dtype=np.uint16),
                  np.array([RANK_LEVELS, 0, RANK_LEVELS], dtype=np.uint16)),
        effects=effects, months_since_september=months_since_september, september=september, counted=no_cells(n),
    )


def stepped(inputs):
    """The young people's status after :func:`compiled.young_month`, checked against the plain rules; and the newcomers' rows."""
    expected, expected_new, _ = plain_young_month(**inputs)
    new = compiled.young_month(**inputs)
    for name, got, want in zip(YOUNG_COLUMNS, inputs["young"], expected):
        np.testing.assert_array_equal(got, want, err_msg=name)
    np.testing.assert_array_equal(new, expected_new)
    return inputs["young"][0].tolist(), new.tolist()


def test_careers_guidance_and_outreach_each_lower_neet_entry_only_by_their_own_effect_while_running():
    # Four students aged 20 (past school, entry hazard 0.2), careers guidance halving it and outreach
    # cutting it by a quarter. Guidance alone: 0.1, so a number of 0.15 keeps the first in education
    # (without it, 0.15 < 0.2 would make them NEET); outreach alone: 0.15, so a number of 0.1 makes
    # the second NEET (guidance's effect as well would give 0.075); the third's guidance ended this
    # month, so the full hazard makes them NEET at 0.15; the fourth has both: 0.075, kept at 0.1.
    t = 3
    young = young_people([EDUCATION] * 4, [AGE_18 + 24] * 4, careers_until=[t + 1, 0, t, t + 1], asb_until=[0, t + 1, 0, t + 1])
    inputs = month_inputs(young, t=t, move=[0.15, 0.1, 0.15, 0.1], entry_base=(0.0, 0.2), effects=(0.5, 0.25, 0.0, 0.0, 0.0))
    assert stepped(inputs)[0] == [EDUCATION, NEET, NEET, EDUCATION]


def test_employment_support_raises_a_neet_young_persons_exit_into_work_while_it_runs():
    # NEET for 2 months, aged 20, no disorder: a number between the exit into work without support
    # and with it moves the one with support running into work; support that ended this month, or
    # none, leaves them NEET (a third month).
    t = 3
    _, education, work = dynamics.neet_exit_tables(**SPLIT)
    row = 2 * 2
    u = education[row] + (work[2 * row] + work[2 * row + 1]) / 2
    young = young_people([NEET] * 3, [AGE_18 + 24] * 3, months_neet=2, ips_until=[t + 1, t, 0])
    assert stepped(month_inputs(young, t=t, move=u))[0] == [EMPLOYED, NEET, NEET]
    assert young[1].tolist() == [0, 3, 3]


def test_outreach_cuts_year_12_neet_entry_only_while_it_runs():
    # Year 11 pupils in the month before September (no monthly entry before Year 12), half of a year
    # group starting Year 12 NEET, outreach cutting it by 0.3: a number of 0.4 makes the pupil whose
    # outreach ended this month NEET (0.4 < 0.5), and keeps the one whose outreach runs on in
    # education (0.4 >= 0.35).
    t = 3
    young = young_people([EDUCATION] * 2, [195] * 2, asb_until=[t, t + 1])
    inputs = month_inputs(young, t=t, entry=0.4, year_12_neet=0.5, effects=(0.0, 0.3, 0.0, 0.0, 0.0), months_since_september=11,
                          september=True)
    assert stepped(inputs)[0] == [NEET, EDUCATION]


def test_each_young_person_turning_25_is_replaced_by_the_next_newcomer_in_turn():
    # Three young people, the first and last turning 25: each is replaced by a 16-year-old in
    # education with the next newcomer's numbers (a disorder below the prevalence of 0.1, a rank)
    # and no support; the one between them is left as they were.
    young = young_people([NEET, EMPLOYED, EMPLOYED], [AGE_25 - 1, AGE_18, AGE_25 - 1], careers_until=5, ips_until=5, asb_until=5)
    inputs = month_inputs(young, t=3, move=0.99, newcomers=([0.5, 0.05], [7, 9]), effects=(0.0, 0.0, 0.0, 0.1, 0.0))
    status, new = stepped(inputs)
    assert new == [0, 2] and status == [EDUCATION, EMPLOYED, EDUCATION]
    assert young[2].tolist() == [AGE_16, AGE_18 + 1, AGE_16] and young[3].tolist() == [False, False, True]
    assert young[7].tolist() == [7, 0, 9] and young[4].tolist() == [0, 5, 0]


def test_the_reference_world_adds_the_means_tested_payment_only_to_means_tested_homes():
    # Two band D homes of the same income, £0.50 of it below the poverty line after their fuel cost:
    # the means-tested one is lifted above the line by its payment, the other stays fuel poor.
    cost_by_band = np.array([-np.inf] * 3 + [1_000.0, 1_250.0, 1_550.0, 1_900.0])
    counts = np.zeros(1, dtype=np.int64)
    compiled.reference_cold_homes(
        counts, np.zeros(2, dtype=np.int16), np.array([15_000.0, 15_000.0]), np.ones(1), 1.0, 0.0, np.zeros(2), np.array([True, False]),
        650.0, np.array([3, 3], dtype=np.uint8), cost_by_band, 15_000.0 - 1_000.0 + 0.5,
    )
    assert counts.tolist() == [1]


def test_a_young_person_turning_25_without_a_newcomers_number_is_refused():
    inputs = month_inputs(young_people([EDUCATION], [AGE_25 - 1]), t=0, months_since_september=0)
    with pytest.raises(ValueError, match="^more young people turn 25 this month than newcomers' numbers were drawn for$"):
        compiled.young_month(**inputs)


@settings(max_examples=200, deadline=None)
@given(values=hnp.arrays(st.sampled_from([np.int16, np.int32]), st.integers(0, 80), elements=st.integers(-3, 3)))
def test_falls_finds_any_entry_below_the_one_before_it(values):
    assert compiled.falls(values) == bool(np.less(values[1:], values[:-1]).any())


def test_falls_finds_one_fall_at_the_start_or_the_end_of_sorted_places():
    place = np.repeat(np.arange(5, dtype=np.int16), 40)
    assert not compiled.falls(place)
    for first, second in ((0, 1), (198, 199)):
        swapped = place.copy()
        swapped[first], swapped[second] = 1, 0
        assert compiled.falls(swapped)
