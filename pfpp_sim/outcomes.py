"""Declared outcomes (with units) and how they are measured per place and month."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from pfpp_sim import compiled
from pfpp_sim.population import (
    AGE_18,
    ILO_INACTIVE,
    ILO_UNEMPLOYED,
    NEET,
    TENURES,
    YEARS_12_13,
    Block,
    Population,
    school_group,
    slice_sizes,
)

__all__ = [
    "ANNUAL_BASIS",
    "EQUITY_GROUPS",
    "EQUITY_MEASURES",
    "FLOWS",
    "OUTCOMES",
    "OVERHEADS",
    "RATES",
    "EquityGroups",
    "Outcome",
    "basis_year",
    "count_outcomes",
    "counts_from_cells",
    "equity_from_counts",
    "equity_groups",
    "household_tally",
    "is_rate",
    "rates_from_counts",
    "resident_equity",
    "resident_rates",
    "young_tally",
]


@dataclass(frozen=True)
class Outcome:
    """A measured quantity: unit, how it aggregates over time and places, and meaning."""

    unit: str
    kind: str  # "rate" (mean over months, weighted over places), "flow" (summed), "stock"
    description: str
    weight: str = ""  # for rates: "households" or "young_people"


RATES = MappingProxyType(
    {
        "fuel_poverty_rate": Outcome("fraction of households", "rate", "LILEE fuel poverty", "households"),
        "neet_16_17_rate": Outcome(
            "fraction of Years 12-13", "rate", "NEET, academic age 16-17 (DfE series basis: age on 31 August)", "young_people"
        ),
        "neet_16_24_rate": Outcome("fraction of 16-24 year olds", "rate", "NEET, 16-24", "young_people"),
        "youth_unemployment_rate": Outcome(
            "fraction of economically active 16-24", "rate", "ILO unemployment rate, 16-24 (unemployed / economically active)", "young_people"
        ),
        "youth_unemployment_rate_18_24": Outcome(
            "fraction of economically active 18-24", "rate", "ILO unemployment rate, 18-24 (unemployed / economically active)", "young_people"
        ),
        "youth_mh_rate": Outcome("fraction of 16-24 year olds", "rate", "probable mental disorder, 16-24", "young_people"),
    }
)
FLOWS = MappingProxyType(
    {
        "allocated_gbp": Outcome("GBP", "flow", "money awarded to the council (month 0 includes what earlier awards still held)"),
        "delivered_gbp": Outcome("GBP", "flow", "money spent on interventions"),
        "grant_overhead_gbp": Outcome("GBP", "flow", "reporting and governance costs top-sliced from grants"),
        "bid_cost_gbp": Outcome("GBP", "flow", "council money spent on bids, won or lost"),
        "recruitment_cost_gbp": Outcome("GBP", "flow", "cost of rebuilding delivery teams lost at funding cliff edges"),
        "governance_cost_gbp": Outcome("GBP", "flow", "governance and accountability cost of pooled budgets"),
        "lever_cost_gbp": Outcome(
            "GBP", "flow", "cost of the levers in use: data sharing, contact staff, senior officials, funding mapping, secondees, campus"
        ),
        "overhead_gbp": Outcome("GBP", "flow", "all overhead: grant overhead + bids + recruitment + pooled governance + levers"),
        "returned_gbp": Outcome("GBP", "flow", "unspent money clawed back at deadlines"),
        "duplicated_gbp": Outcome("GBP", "flow", "spend on residents another stream had already served"),
        "bids": Outcome("bids", "flow", "competitive bids made"),
        "deliveries": Outcome("residents", "flow", "interventions delivered (real scale)"),
        "retrofits": Outcome("homes", "flow", "retrofits delivered (real scale)"),
        "retrofits_to_fuel_poor": Outcome("homes", "flow", "retrofits delivered to fuel-poor households"),
        "mobilisation_months_lost": Outcome("team-months", "flow", "funded months in which a delivery team was still mobilising"),
    }
)
OVERHEADS = ("grant_overhead_gbp", "bid_cost_gbp", "recruitment_cost_gbp", "governance_cost_gbp", "lever_cost_gbp")
"""Flows that make up ``overhead_gbp``."""
OUTCOMES = MappingProxyType({**RATES, **FLOWS, "held_gbp": Outcome("GBP", "stock", "money awarded and not yet spent")})
"""Every outcome a run reports, by name."""


ANNUAL_BASIS = MappingProxyType(
    {
        "fuel_poverty_rate": "DESNZ data year: mean of the calendar year's months",
        "neet_16_17_rate": "DfE time period YYYY: mean of December YYYY-1, January and February YYYY",
    }
)
"""How the annual figure of an official series is formed from months (others: calendar year)."""


def basis_year(metric: str, dates: pd.DatetimeIndex) -> np.ndarray:
    """The year each month counts towards in a metric's annual figure (see :data:`ANNUAL_BASIS`).

    Parameters
    ----------
    metric : str
        An outcome name.
    dates : pandas.DatetimeIndex
        First day of each month.

    Returns
    -------
    ndarray of int32
        The year, or -1 for a month that counts towards no year (NEET 16-17, March to November).
    """
    year, month = dates.year.to_numpy(), dates.month.to_numpy()
    if metric == "neet_16_17_rate":
        return np.where(month == 12, year + 1, np.where(month <= 2, year, -1)).astype(np.int32)
    return year.astype(np.int32)


def display_scale(metric: str) -> tuple[float, str, int]:
    """How a change in ``metric`` is shown: ``(multiplier, unit suffix, decimals)``.

    Rates and shares in percentage points (``100, " pp", 2``), money in millions of pounds
    (``1e-6, "m", 2``, written after a ``£``), anything else as it is (``1, "", 1``).
    """
    if is_rate(metric):
        return 100.0, " pp", 2
    if metric.endswith("_gbp"):
        return 1e-6, "m", 2
    return 1.0, "", 1


def is_rate(metric: str) -> bool:
    """Whether ``metric`` is a rate or share (a fraction, shown in % and pp), by name or by its outcome kind."""
    return metric.endswith(("_rate", "_share")) or (metric in OUTCOMES and OUTCOMES[metric].kind == "rate")


def basis_months(metric: str) -> int:
    """Months a full year of ``metric``'s annual figure averages or sums (3 for NEET 16-17, else 12)."""
    dates = pd.date_range("2001-01-01", periods=36, freq="MS")
    return int((basis_year(metric, dates) == 2002).sum())


def _share(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(numerator, denominator, out=np.zeros(numerator.shape), where=denominator > 0)


def resident_rates(pop: Population, months_since_september: int) -> dict[str, np.ndarray]:
    """Measure the resident outcome rates of every place.

    NEET 16-17 counts Years 12-13 (DfE academic age 16-17,
    :func:`~pfpp_sim.population.school_group`); the 18-24 unemployment rate counts those
    aged 18-24 (ONS: age on the day).

    Parameters
    ----------
    pop : Population
    months_since_september : int
        :func:`~pfpp_sim.population.since_september` of the month whose first day the
        residents' ages are on.

    Returns
    -------
    dict of str to ndarray of float64, shape (n_places,)
        Each key of :data:`RATES`; fractions in [0, 1].
    """
    return rates_from_counts(_rate_counts(pop, months_since_september))


def _rows(pop: Population, block: Block | None) -> tuple[slice, slice, slice]:
    """The households, young people and places of ``block`` (default: all)."""
    if block is None:
        return slice(0, pop.households.n), slice(0, pop.young.n), slice(0, pop.places.n)
    return block.households, block.young, block.places


_YOUNG_COUNTS = ("neet_16_24", "youth_mh", "young_16_17", "neet_16_17", "active_16_24", "unemployed_16_24", "active_18_24", "unemployed_18_24")
"""What is counted of young people every month, the columns of :data:`_YOUNG_MEASURES`."""


def _young_measures() -> np.ndarray:
    """Whether young people in each state (:func:`_young_states`) count in each of :data:`_YOUNG_COUNTS`, shape (48, 8)."""
    state = np.arange(compiled.YOUNG_STATES)
    neet, mh, cohort, adult, ilo = state & 1, state >> 1 & 1, state >> 2 & 1, state >> 3 & 1, state >> 4
    active, unemployed = ilo != ILO_INACTIVE, ilo == ILO_UNEMPLOYED
    return np.column_stack(
        [neet, mh, cohort, cohort & neet, active, unemployed, active & (adult == 1), unemployed & (adult == 1)]
    ).astype(np.float64)


_YOUNG_MEASURES = _young_measures()


def _young_states(pop: Population, young: slice, months_since_september: int) -> np.ndarray:
    """Each young person's state for counting, 0 to 47: NEET + 2 mental disorder + 4 Years 12-13 + 8 aged 18 or more + 16 ILO status.

    Returns
    -------
    ndarray of uint8, shape (n_young in ``young``,)
    """
    y = pop.young
    age = y.age_months[young]
    state = y.ilo_status[young] << np.uint8(4)
    state |= (y.status[young] == NEET).view(np.uint8)
    state |= y.mh_disorder[young].view(np.uint8) << np.uint8(1)
    state |= (school_group(age, months_since_september) == YEARS_12_13).view(np.uint8) << np.uint8(2)
    state |= (age >= AGE_18).view(np.uint8) << np.uint8(3)
    return state


def _young_counts(cells: np.ndarray, n_cells: int, states: np.ndarray) -> np.ndarray:
    """Young people of each cell counted in each of :data:`_YOUNG_COUNTS`, shape (n_cells, 8), float64.

    One count of every (cell, state) pair, then exact sums of whole numbers over the
    states each measure takes (a product with the 0/1 table :data:`_YOUNG_MEASURES`).
    ``cells`` holds each young person's cell, 0 to ``n_cells - 1``.
    """
    code = cells.astype(np.intp)
    code *= compiled.YOUNG_STATES
    code += states
    by_state = np.bincount(code, minlength=n_cells * compiled.YOUNG_STATES).reshape(n_cells, compiled.YOUNG_STATES)
    return by_state.astype(np.float64) @ _YOUNG_MEASURES


def _sizes(slices: list[slice]) -> np.ndarray:
    return slice_sizes(slices).astype(np.float64)


def _rate_counts(pop: Population, months_since_september: int) -> dict[str, np.ndarray]:
    """Residents behind each rate, per place, float64."""
    h, y = pop.households, pop.young
    counts = _young_counts(y.place, pop.places.n, _young_states(pop, slice(0, y.n), months_since_september))
    return {
        "households": _sizes(h.slices),
        "fuel_poor": np.bincount(h.place[np.flatnonzero(h.fuel_poor)], minlength=pop.places.n).astype(np.float64),
        "young_people": _sizes(y.slices),
        **dict(zip(_YOUNG_COUNTS, counts.T)),
    }


_RATE_COUNTS = {
    "fuel_poverty_rate": ("fuel_poor", "households"),
    "neet_16_17_rate": ("neet_16_17", "young_16_17"),
    "neet_16_24_rate": ("neet_16_24", "young_people"),
    "youth_unemployment_rate": ("unemployed_16_24", "active_16_24"),
    "youth_unemployment_rate_18_24": ("unemployed_18_24", "active_18_24"),
    "youth_mh_rate": ("youth_mh", "young_people"),
}
"""The counts each rate divides: ``rate: (numerator, denominator)``."""


def rates_from_counts(counts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The rates of :func:`resident_rates` from :func:`count_outcomes` counts (for all places).

    The rates are the rows of one array: a model divides once a month for all of them.
    """
    numerator = np.array([counts[n] for n, _ in _RATE_COUNTS.values()])
    denominator = np.array([counts[d] for _, d in _RATE_COUNTS.values()])
    return dict(zip(_RATE_COUNTS, _share(numerator, denominator)))


EQUITY_GROUPS = (*(("tenure", t) for t in TENURES), *(("income_quintile", f"Q{q}") for q in range(1, 6)))
"""``(breakdown, group)`` pairs of the equity breakdown; income quintile Q1 is the lowest."""
EQUITY_MEASURES = ("households", "fuel_poor", "young_people", "neet_16_24", "youth_mh", "young_16_17", "neet_16_17")
"""Counts measured per place and equity group: households, fuel-poor households, young people
aged 16-24 in those households, of whom NEET, of whom with a probable mental disorder, and
young people in Years 12-13 (academic age 16-17), of whom NEET (who is in them changes as
residents age, so they are counted every month)."""


_QUINTILES = 5
_CELLS_PER_PLACE = len(TENURES) * _QUINTILES
"""Equity cells of one place: its tenures times its income quintiles."""


@dataclass(frozen=True)
class EquityGroups:
    """The equity cell of every resident, fixed at the start of a run.

    A household's cell is ``(place * len(TENURES) + tenure) * 5 + quintile``: its place,
    its tenure and its income quintile within its place; young people take their
    household's. Counting residents by cell gives both breakdowns at once (by tenure:
    summed over quintiles; by quintile: summed over tenures). Cells are uint16 when every
    cell fits (up to 4,369 places), else int32. ``household_count`` and ``young_count``
    are the simulated residents in each place and group, float64 of shape
    (n_places, len(EQUITY_GROUPS)).
    """

    households: np.ndarray  # uint16 or int32, shape (n_households,)
    young: np.ndarray  # uint16 or int32, shape (n_young,)
    household_count: np.ndarray
    young_count: np.ndarray


def _count_by_group(cells: np.ndarray, n_places: int, flag: np.ndarray | None = None, first_place: int = 0) -> np.ndarray:
    """Residents (flagged ones only, if ``flag``) per place and equity group, shape (n_places, 8).

    ``cells`` belong to places ``first_place`` to ``first_place + n_places - 1``.
    """
    chosen = cells if flag is None else cells[np.flatnonzero(flag)]
    if first_place:
        chosen = chosen - first_place * _CELLS_PER_PLACE
    counts = np.bincount(chosen, minlength=n_places * _CELLS_PER_PLACE).reshape(n_places, len(TENURES), _QUINTILES)
    return np.concatenate([counts.sum(axis=2), counts.sum(axis=1)], axis=1).astype(np.float64)


def _quintiles_within_place(income_gbp: np.ndarray, slices: list[slice]) -> np.ndarray:
    """Income quintile (0 = lowest) of each household among the households of its place.

    Households are sorted by place (``slices``). Ranking a place's households by income,
    ties kept in household order, rank ``r`` of ``n`` is in quintile ``r * 5 // n``: a
    household's quintile is the number of quintile starts (ranks ``ceil(q * n / 5)``,
    q = 1..4) at or below its rank. The incomes at those ranks are found by partition,
    not by sorting.
    """
    quintile = np.zeros(income_gbp.size, dtype=np.uint8)
    for s in slices:
        x = income_gbp[s]
        size = x.size
        starts = [r for r in (-(-q * size // _QUINTILES) for q in range(1, _QUINTILES)) if r < size]
        if not starts:
            continue
        q = quintile[s]
        for r, value in zip(starts, np.partition(x, starts)[starts].tolist()):
            at_or_above = x >= value
            tied = np.flatnonzero(x == value)
            if tied.size > 1:  # tied incomes take consecutive ranks in household order
                below = size - int(np.count_nonzero(at_or_above))
                at_or_above[tied[: r - below]] = False
            q += at_or_above
    return quintile


def equity_groups(pop: Population, income_gbp: np.ndarray) -> EquityGroups:
    """Group residents by tenure and by household income quintile within their place.

    Parameters
    ----------
    pop : Population
    income_gbp : ndarray of float64, shape (n_households,)
        Equivalised household income after housing costs, GBP/year, as in the LILEE test.
        Groups are fixed from it, so the same households are compared across scenarios.

    Returns
    -------
    EquityGroups
    """
    h = pop.households
    n = pop.places.n
    dtype = np.uint16 if n * _CELLS_PER_PLACE <= np.iinfo(np.uint16).max + 1 else np.int32
    cells = np.empty(h.n, dtype=dtype)
    cells[:] = h.place
    cells *= len(TENURES)
    cells += h.tenure
    cells *= _QUINTILES
    cells += _quintiles_within_place(income_gbp, h.slices)
    young = cells[pop.young.household]
    return EquityGroups(cells, young, _count_by_group(cells, n), _count_by_group(young, n))


def resident_equity(pop: Population, groups: EquityGroups, months_since_september: int) -> dict[str, np.ndarray]:
    """Count this month's outcomes in each place and equity group (simulated residents).

    Parameters
    ----------
    pop : Population
    groups : EquityGroups
    months_since_september : int
        As in :func:`resident_rates`.

    Returns
    -------
    dict of str to ndarray of float64, shape (n_places, len(EQUITY_GROUPS))
        ``fuel_poor`` households, young people ``neet_16_24`` and with ``youth_mh``
        (a probable mental disorder), and young people in Years 12-13 (``young_16_17``) and
        of them NEET (``neet_16_17``); the groups' sizes at the start are in ``groups``.
    """
    return equity_from_counts(_counts(pop, groups, None, months_since_september, rates=False))


_EQUITY_COUNTS = tuple(m for m in EQUITY_MEASURES if m not in ("households", "young_people"))
"""Measures counted every month; group sizes are fixed at the start (:class:`EquityGroups`)."""


def _cells_of_groups() -> np.ndarray:
    """Whether each cell of a place (``tenure * 5 + quintile``) is in each of :data:`EQUITY_GROUPS`, shape (8, 15), float64."""
    cell = np.arange(_CELLS_PER_PLACE)
    tenure, quintile = cell // _QUINTILES, cell % _QUINTILES
    return np.concatenate([tenure == np.arange(len(TENURES))[:, None], quintile == np.arange(_QUINTILES)[:, None]]).astype(np.float64)


_CELLS_OF_GROUPS = _cells_of_groups()
_CELLS_OF_GROUPS_AND_PLACE = np.vstack([_CELLS_OF_GROUPS, np.ones(_CELLS_OF_GROUPS.shape[1])])
""":data:`_CELLS_OF_GROUPS` with a last row of ones: the sum of every cell of a place, its total."""


def _counts(pop: Population, groups: EquityGroups, block: Block | None, months_since_september: int, *, rates: bool = True) -> dict[str, np.ndarray]:
    """The counts of :func:`count_outcomes` (without the rates' counts unless ``rates``), from one count of young people by cell and state."""
    h, y = pop.households, pop.young
    hs, ys, places = _rows(pop, block)
    first_cell, n_cells = _cell_range(places)
    by_state = compiled.young_state_cells(
        groups.young[ys], first_cell, n_cells, y.ilo_status[ys], y.status[ys], y.mh_disorder[ys], y.age_months[ys], months_since_september,
    )
    fuel_poor = compiled.fuel_poor_cells(groups.households[hs], h.fuel_poor[hs], first_cell, n_cells)
    return counts_from_cells(pop, block, by_state, fuel_poor, rates=rates)


def counts_from_cells(
    pop: Population, block: Block | None, young_by_state: np.ndarray, fuel_poor_by_cell: np.ndarray, *, rates: bool = True,
) -> dict[str, np.ndarray]:
    """The counts of :func:`count_outcomes` for ``block`` (default: all places), from its residents counted by cell.

    Parameters
    ----------
    pop : Population
    block : Block or None
    young_by_state : ndarray of int64, shape (n_cells, :data:`~pfpp_sim.compiled.YOUNG_STATES`)
        The young people by cell and state as the month ends (as
        :func:`~pfpp_sim.compiled.young_state_cells` counts them;
        :func:`~pfpp_sim.compiled.young_month` counts them while it steps them).
    fuel_poor_by_cell : ndarray of int64, shape (n_cells,)
        The fuel-poor households by cell (as :func:`~pfpp_sim.compiled.fuel_poor_cells`
        counts them; :func:`~pfpp_sim.compiled.step_households` counts them while it flags them).
    rates : bool, default=True
        Whether to include the counts the rates need, not only the equity breakdown's.

    Returns
    -------
    dict of str to ndarray of float64
        As :func:`count_outcomes`.
    """
    h = pop.households
    places = _rows(pop, block)[2]
    n = places.stop - places.start
    # Each cell's young people in each of _YOUNG_COUNTS, then its fuel-poor households; summed by
    # equity group and over the place (the last row) in one product: sums of whole numbers, so exact.
    by_cell = np.concatenate([young_by_state.astype(np.float64) @ _YOUNG_MEASURES, fuel_poor_by_cell[:, None]], axis=1)
    summed = _CELLS_OF_GROUPS_AND_PLACE @ by_cell.reshape(n, _CELLS_PER_PLACE, len(_YOUNG_COUNTS) + 1)
    by_group, total = summed[:, :-1], summed[:, -1]
    counts = {
        "equity_fuel_poor": by_group[..., -1].copy(),
        **{f"equity_{k}": by_group[..., _YOUNG_COUNTS.index(k)].copy() for k in _EQUITY_COUNTS if k != "fuel_poor"},
    }
    if rates:
        counts = {
            "households": _sizes(h.slices[places]) if block is None else block.household_sizes.astype(np.float64),
            "fuel_poor": total[:, -1],
            "young_people": _sizes(pop.young.slices[places]) if block is None else block.young_sizes.astype(np.float64),
            **dict(zip(_YOUNG_COUNTS, total[:, :-1].T)),
            **counts,
        }
    return counts


def _cell_range(places: slice) -> tuple[int, int]:
    """The first equity cell of a range of places and the number of their cells."""
    return places.start * _CELLS_PER_PLACE, (places.stop - places.start) * _CELLS_PER_PLACE


def young_tally(groups: EquityGroups, block: Block) -> tuple[np.ndarray, int, np.ndarray]:
    """What :func:`~pfpp_sim.compiled.young_month` needs to count a block's young people by cell and state as it steps them.

    Returns
    -------
    cells : ndarray
        Each young person's equity cell.
    first_cell : int
        The block's first cell.
    counts : ndarray of int64, shape (n_cells, :data:`~pfpp_sim.compiled.YOUNG_STATES`)
        Zeros, to count into (then :func:`counts_from_cells`' ``young_by_state``).
    """
    first_cell, n_cells = _cell_range(block.places)
    return groups.young[block.young], first_cell, np.zeros((n_cells, compiled.YOUNG_STATES), dtype=np.int64)


def household_tally(groups: EquityGroups, block: Block) -> tuple[np.ndarray, int, np.ndarray]:
    """What :func:`~pfpp_sim.compiled.step_households` needs to count a block's fuel-poor households by cell as it flags them.

    Returns
    -------
    cells : ndarray
        Each household's equity cell.
    first_cell : int
        The block's first cell.
    counts : ndarray of int64, shape (n_cells,)
        Zeros, to count into (then :func:`counts_from_cells`' ``fuel_poor_by_cell``).
    """
    first_cell, n_cells = _cell_range(block.places)
    return groups.households[block.households], first_cell, np.zeros(n_cells, dtype=np.int64)


def equity_from_counts(counts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The counts of :func:`resident_equity` from :func:`count_outcomes` counts (for all places)."""
    return {k: counts[f"equity_{k}"] for k in _EQUITY_COUNTS}


def count_outcomes(pop: Population, groups: EquityGroups, months_since_september: int, block: Block | None = None) -> dict[str, np.ndarray]:
    """Residents counted for the rates and the equity breakdown, in each place of ``block`` (default: all).

    Blocks' counts joined in place order (``np.concatenate`` of each key) are the
    counts of all places, from which :func:`rates_from_counts` and
    :func:`equity_from_counts` give what :func:`resident_rates` and
    :func:`resident_equity` measure.

    Returns
    -------
    dict of str to ndarray of float64
        Per place, shape (n_block_places,), for the rates; per place and equity group,
        shape (n_block_places, len(EQUITY_GROUPS)), for keys starting ``equity_``.
    """
    return _counts(pop, groups, block, months_since_september)
