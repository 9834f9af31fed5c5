"""The compiled loops of ``pfpp_sim.compiled`` give what the plain rules give, to the bit."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pfpp_sim import compiled, dynamics
from pfpp_sim.outcomes import _YOUNG_MEASURES, _young_counts, _young_states
from pfpp_sim.population import AGE_16, AGE_25, EMPLOYED, NEET

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


@settings(deadline=None)
@given(cells=hnp.arrays(np.uint16, st.integers(0, 60), elements=st.integers(30, 59)), data=st.data())
def test_fuel_poor_cells_count_only_the_flagged_households_of_each_cell(cells, data):
    flags = data.draw(hnp.arrays(np.bool_, cells.size))
    got = compiled.fuel_poor_cells(cells, flags, 30, 30)
    np.testing.assert_array_equal(got, np.bincount(cells[flags] - 30, minlength=30))


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
    assert by_state.sum() == m
