"""Summaries of runs and paired differences with confidence intervals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from pfpp_sim.outcomes import FLOWS, OUTCOMES, RATES

__all__ = [
    "ALL_PLACES",
    "all_places_note",
    "EQUITY_RATES",
    "SUMMARY_METRICS",
    "SUMMARY_UNITS",
    "equity_rates",
    "mean_interval",
    "paired_differences",
    "repeated_place",
    "summarise_columns",
    "summarise_run",
    "trajectory_bands",
    "trajectory_differences",
]

ALL_PLACES = "ALL"
SUMMARY_METRICS = (
    *RATES,
    "allocated_gbp",
    "delivered_gbp",
    "overhead_gbp",
    "bid_cost_gbp",
    "returned_gbp",
    "duplicated_gbp",
    "mobilisation_months_lost",
    "months_to_first_delivery",
    "retrofits",
    "retrofit_fuel_poor_share",
)
"""Per-run summary metrics: rates are means over the last 12 months; money and counts are totals."""
SUMMARY_UNITS = MappingProxyType(
    {
        **{name: OUTCOMES[name].unit for name in SUMMARY_METRICS if name in OUTCOMES},
        "months_to_first_delivery": "months from award to first delivery (mean over awards)",
        "retrofit_fuel_poor_share": "fraction of retrofits",
    }
)
"""Unit of each summary metric."""


def _counted(places: pd.DataFrame) -> pd.Index:
    """Codes of the places "All places" adds up: every place not inside another place of the run."""
    table = places.drop_duplicates("place_code")
    return pd.Index(table.loc[table["in_all_places"].astype(bool), "place_code"])


def all_places_note(places: pd.DataFrame) -> str:
    """A sentence saying which places "All places" counts within another, or "" if none.

    Parameters
    ----------
    places : DataFrame
        ``place_code, place_name, within_code`` (one row per place, or per replicate and place).
    """
    table = places.drop_duplicates("place_code").set_index("place_code")
    nested = table[table["within_code"] != ""]
    if nested.empty:
        return ""
    pairs = [f"{table.at[code, 'place_name']} within {table.at[row.within_code, 'place_name']}" for code, row in nested.iterrows()]
    return f"All places counts every resident and pound once: {', '.join(pairs)}, not again."


def repeated_place(places: pd.DataFrame) -> str | None:
    """The code of the one place that "All places" would only repeat, or None.

    "All places" adds up the places not inside another place of the run; when that is a
    single place (a one-place run, or a county with its districts), its rows say nothing new.

    Parameters
    ----------
    places : DataFrame
        ``place_code, in_all_places`` (one row per place, or per replicate and place).
    """
    counted = _counted(places)
    return str(counted[0]) if len(counted) == 1 else None


def summarise_run(monthly: pd.DataFrame, awards: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """Summarise one run per place and for all places together.

    Parameters
    ----------
    monthly : DataFrame
        One row per place and month with every outcome column.
    awards : DataFrame
        One row per award with ``place_code``, ``award_month``, ``first_delivery``, ``deadline``.
    places : DataFrame
        ``place_code, real_households, real_young_people, in_all_places``.

    Returns
    -------
    DataFrame
        ``place_code, metric, value``; ``place_code == "ALL"`` aggregates the places
        counted in all places (a district whose county is in the run is counted within
        its county, not again): rates weighted by real households or young people,
        money summed.
    """
    return summarise_columns(monthly, awards, places.drop_duplicates("place_code"))


def summarise_columns(
    monthly: Mapping[str, ArrayLike], awards: Mapping[str, ArrayLike], places: Mapping[str, ArrayLike]
) -> pd.DataFrame:
    """:func:`summarise_run` of the tables' columns, one array each (what a run holds, without building its tables).

    Parameters
    ----------
    monthly : mapping of str to array, each of shape (n_rows,)
        ``place_code``, ``month`` and every outcome, one row per place and month. The
        places summarised are those with rows in the last 12 months, in the order they first appear.
    awards : mapping of str to array, each of shape (n_awards,)
        ``place_code``, ``award_month``, ``first_delivery`` (-1 if none), ``deadline``.
    places : mapping of str to array, each of shape (n_places,)
        ``place_code, real_households, real_young_people, in_all_places``, one row per place.

    Returns
    -------
    DataFrame
        As :func:`summarise_run`.
    """
    place_code, month = np.asarray(monthly["place_code"]), np.asarray(monthly["month"])
    last = month >= month.max() - 11
    codes = pd.unique(place_code[last])  # in order of appearance, as grouping a table by place keeps them
    place = _positions(place_code, codes)
    kept = place >= 0  # rows of a place without months in the last 12: not summarised
    per_place = dict(zip(RATES, _by_place(_stacked(monthly, RATES, last), place[last], len(codes), "mean")))
    per_place.update(zip(FLOWS, _by_place(_stacked(monthly, FLOWS, kept), place[kept], len(codes), "sum")))
    award_place = _positions(np.asarray(awards["place_code"]), codes)
    known = award_place >= 0
    first_delivery, deadline = np.asarray(awards["first_delivery"]), np.asarray(awards["deadline"])
    waits = (np.where(first_delivery >= 0, first_delivery, deadline) - np.asarray(awards["award_month"]))[known]
    per_place["months_to_first_delivery"] = _by_place(waits[:, None], award_place[known], len(codes), "mean")[0]
    retrofits = per_place["retrofits"]
    per_place["retrofit_fuel_poor_share"] = per_place["retrofits_to_fuel_poor"] / np.where(retrofits > 0, retrofits, np.nan)

    row = _positions(codes, np.asarray(places["place_code"]))
    counted = (row >= 0) & np.asarray(places["in_all_places"]).astype(bool)[row]
    total = {}
    for name, outcome in RATES.items():
        weights = np.asarray(places["real_households" if outcome.weight == "households" else "real_young_people"])[row[counted]]
        total[name] = float(np.average(per_place[name][counted], weights=weights))
    for name in FLOWS:
        total[name] = float(per_place[name][counted].sum())
    counted_waits = waits[counted[award_place[known]]]
    total["months_to_first_delivery"] = float(counted_waits.mean()) if len(counted_waits) else np.nan
    total["retrofit_fuel_poor_share"] = total["retrofits_to_fuel_poor"] / total["retrofits"] if total["retrofits"] > 0 else np.nan
    metrics = list(SUMMARY_METRICS)
    return pd.DataFrame(
        {  # long: metric after metric, each over the places in order
            "place_code": np.tile(np.append(codes, ALL_PLACES), len(metrics)),
            "metric": np.repeat(metrics, len(codes) + 1),
            "value": np.concatenate([np.append(per_place[name], total[name]) for name in metrics]),
        }
    )


def _positions(codes: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Where each of ``codes`` is in ``among`` (unique codes): ndarray of intp, -1 where it is not."""
    position = {code: i for i, code in enumerate(among)}
    return np.array([position.get(code, -1) for code in codes], dtype=np.intp)


def _stacked(columns: Mapping[str, ArrayLike], names: Iterable[str], rows: np.ndarray) -> np.ndarray:
    """Columns ``names`` at ``rows``, side by side: shape (n_rows, len(names))."""
    return np.column_stack([np.asarray(columns[name])[rows] for name in names])


def _by_place(values: np.ndarray, place: np.ndarray, n_places: int, how: str) -> np.ndarray:
    """Each column's sum or mean over each place's rows: shape (n_columns, n_places), NaN for a place without rows.

    pandas groups the rows, so the sums are compensated (Kahan) as when a table is grouped by place.
    """
    grouped = getattr(pd.DataFrame(values).groupby(place), how)()
    out = np.full((values.shape[1], n_places), np.nan)
    out[:, grouped.index.to_numpy()] = grouped.to_numpy().T
    return out


def _half_width(sd: pd.Series, n: pd.Series, confidence: float) -> pd.Series:
    """Half-width of the t confidence interval of a mean; NaN with fewer than two values."""
    half = stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    return half.where(n > 1)


def paired_differences(
    summary: pd.DataFrame, base: str, alternative: str, *, confidence: float = 0.95, by: tuple[str, ...] = ("place_code",)
) -> pd.DataFrame:
    """Paired differences (alternative - base) over replicates, with t confidence intervals.

    Replicates of the two scenarios share seeds (common random numbers), so each
    replicate's difference removes most of the noise both runs share.

    Parameters
    ----------
    summary : DataFrame
        ``scenario, replicate, metric, value`` and the ``by`` columns, for both scenarios.
    base, alternative : str
        Scenario names.
    confidence : float, default=0.95
    by : tuple of str, default=("place_code",)
        Columns that, with ``metric``, identify one quantity.

    Returns
    -------
    DataFrame
        The ``by`` columns, then ``metric, base_mean, alternative_mean, difference, n, ci_low, ci_high``.
    """
    keys = [*by, "metric", "replicate"]
    a = summary[summary["scenario"] == base].set_index(keys)["value"]
    b = summary[summary["scenario"] == alternative].set_index(keys)["value"]
    both = pd.DataFrame({"base": a, "alternative": b}).dropna()
    both["difference"] = both["alternative"] - both["base"]
    grouped = both.groupby(level=[*by, "metric"], sort=False)
    out = grouped.agg(
        base_mean=("base", "mean"),
        alternative_mean=("alternative", "mean"),
        difference=("difference", "mean"),
        sd=("difference", "std"),
        n=("difference", "size"),
    )
    half = _half_width(out["sd"], out["n"], confidence)
    out["ci_low"] = out["difference"] - half
    out["ci_high"] = out["difference"] + half
    return out.drop(columns="sd").reset_index()


def mean_interval(values: pd.DataFrame, by: list[str], *, confidence: float = 0.95) -> pd.DataFrame:
    """Mean of ``value`` over replicates, with a t confidence interval, per ``by`` group.

    Returns
    -------
    DataFrame
        The ``by`` columns, then ``mean, ci_low, ci_high, n``.
    """
    out = values.groupby(by, sort=False)["value"].agg(["mean", "std", "size"]).rename(columns={"size": "n"})
    half = _half_width(out["std"], out["n"], confidence)
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    return out.drop(columns="std").reset_index()[[*by, "mean", "ci_low", "ci_high", "n"]]


def _replicate_trajectories(monthly: pd.DataFrame, places: pd.DataFrame, metric: str) -> pd.DataFrame:
    """A monthly rate of each replicate, per place and for all places together, from the tidy monthly table.

    The one reader of ``monthly`` for :func:`trajectory_bands` and :func:`trajectory_differences`.

    Returns
    -------
    DataFrame
        ``scenario, replicate, month, date, place_code`` and the ``metric`` column;
        ``place_code == "ALL"`` is all places together (each resident once), weighted by
        real households or young people.
    """
    monthly = monthly.loc[monthly["metric"] == metric, ["scenario", "replicate", "place_code", "month", "date", "value"]]
    monthly = monthly.rename(columns={"value": metric})
    column = "real_households" if RATES[metric].weight == "households" else "real_young_people"
    weight = monthly["place_code"].map(places.drop_duplicates("place_code").set_index("place_code")[column])
    weight = weight.where(monthly["place_code"].isin(_counted(places)), 0.0)
    keys = ["scenario", "replicate", "month", "date"]
    totals = monthly.assign(weighted=monthly[metric] * weight, weight=weight).groupby(keys, sort=False)[["weighted", "weight"]].sum()
    together = (totals["weighted"] / totals["weight"]).rename(metric).reset_index().assign(place_code=ALL_PLACES)
    return pd.concat([together, monthly[[*keys, "place_code", metric]]])


def trajectory_bands(monthly: pd.DataFrame, places: pd.DataFrame, metric: str, *, coverage: float = 0.95) -> pd.DataFrame:
    """Mean and central range over replicates of a monthly rate, per scenario, place and month.

    Parameters
    ----------
    monthly : DataFrame
        The tidy monthly table (``scenario, replicate, place_code, month, date, metric, value``).
    places : DataFrame
        ``place_code, real_households, real_young_people, in_all_places``.
    metric : str
        A key of :data:`~pfpp_sim.outcomes.RATES`.
    coverage : float, default=0.95
        Share of replicates inside the band.

    Returns
    -------
    DataFrame
        ``scenario, place_code, month, date, mean, low, high``; ``place_code == "ALL"``
        is all places together (each resident once), weighted by real households or young people.
    """
    grouped = _replicate_trajectories(monthly, places, metric).groupby(["scenario", "place_code", "month", "date"], sort=False)[metric]
    tail = (1 - coverage) / 2
    return pd.DataFrame({"mean": grouped.mean(), "low": grouped.quantile(tail), "high": grouped.quantile(1 - tail)}).reset_index()


def trajectory_differences(
    monthly: pd.DataFrame, places: pd.DataFrame, metric: str, base: str, alternative: str, *, confidence: float = 0.95
) -> pd.DataFrame:
    """Paired difference (alternative - base) of a monthly rate, per place and month, with its confidence interval.

    Each replicate of the alternative is paired with the base's replicate on the same
    seeds (common random numbers), as in :func:`paired_differences`.

    Parameters
    ----------
    monthly, places, metric
        As in :func:`trajectory_bands`.
    base, alternative : str
        Scenario names.
    confidence : float, default=0.95

    Returns
    -------
    DataFrame
        ``place_code, month, date, mean, low, high``: the mean paired difference (a
        fraction, like the rate) and its t confidence interval (NaN with one replicate).
    """
    values = _replicate_trajectories(monthly, places, metric).rename(columns={metric: "value"})
    differences = paired_differences(
        values.assign(metric=metric), base, alternative, confidence=confidence, by=("place_code", "month", "date")
    )
    return differences.rename(columns={"difference": "mean", "ci_low": "low", "ci_high": "high"})[
        ["place_code", "month", "date", "mean", "low", "high"]
    ]


EQUITY_RATES = {
    "fuel_poverty_rate": ("fuel_poor", "households"),
    "neet_16_17_rate": ("neet_16_17", "young_16_17"),
    "neet_16_24_rate": ("neet_16_24", "young_people"),
    "youth_mh_rate": ("youth_mh", "young_people"),
}
"""Rates of the equity breakdown: numerator and denominator columns of ``equity.parquet``."""


def equity_rates(equity: pd.DataFrame, places: pd.DataFrame, *, last_months: int = 12) -> pd.DataFrame:
    """Rates by equity group for all places together (each resident once), per replicate, over the last months.

    Parameters
    ----------
    equity : DataFrame
        ``scenario, replicate, place_code, month, breakdown, group`` and the counts of
        :data:`~pfpp_sim.outcomes.EQUITY_MEASURES` (real scale).
    places : DataFrame
        ``place_code, in_all_places``.
    last_months : int, default=12

    Returns
    -------
    DataFrame
        ``scenario, replicate, breakdown, group, metric, value``: rates in [0, 1], the
        same as :func:`summarise_run`'s (weighted by real residents, mean of the months).
    """
    last = equity[(equity["month"] > equity["month"].max() - last_months) & equity["place_code"].isin(_counted(places))]
    keys = ["scenario", "replicate", "breakdown", "group"]
    sums = last.groupby(keys, sort=False)[sorted({c for pair in EQUITY_RATES.values() for c in pair})].sum()
    rates = pd.DataFrame({name: sums[top] / sums[bottom] for name, (top, bottom) in EQUITY_RATES.items()})
    return rates.reset_index().melt(id_vars=keys, var_name="metric", value_name="value")
