"""Summaries of runs and paired differences with confidence intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from pfpp_sim.outcomes import FLOWS, RATES

__all__ = ["ALL_PLACES", "SUMMARY_METRICS", "paired_differences", "summarise_run"]

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


def summarise_run(monthly: pd.DataFrame, awards: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """Summarise one run per place and for all places together.

    Parameters
    ----------
    monthly : DataFrame
        One row per place and month with every outcome column.
    awards : DataFrame
        One row per award with ``place_code``, ``award_month``, ``first_delivery``, ``deadline``.
    places : DataFrame
        ``place_code, real_households, real_young_people``.

    Returns
    -------
    DataFrame
        ``place_code, metric, value``; ``place_code == "ALL"`` aggregates places (rates
        weighted by real households or young people, money summed).
    """
    last = monthly[monthly["month"] >= monthly["month"].max() - 11]
    rates = last.groupby("place_code", sort=False)[list(RATES)].mean()
    flows = monthly.groupby("place_code", sort=False)[[*FLOWS]].sum()
    per_place = rates.join(flows)
    waits = np.where(awards["first_delivery"] >= 0, awards["first_delivery"], awards["deadline"]) - awards["award_month"]
    awards = awards.assign(wait=waits)
    per_place["months_to_first_delivery"] = awards.groupby("place_code")["wait"].mean().reindex(per_place.index)
    per_place["retrofit_fuel_poor_share"] = per_place["retrofits_to_fuel_poor"] / per_place["retrofits"].where(per_place["retrofits"] > 0)

    weights = places.set_index("place_code").reindex(per_place.index)
    total = {}
    for name, outcome in RATES.items():
        w = weights["real_households" if outcome.weight == "households" else "real_young_people"]
        total[name] = float(np.average(per_place[name], weights=w))
    for name in FLOWS:
        total[name] = float(per_place[name].sum())
    total["months_to_first_delivery"] = float(awards["wait"].mean()) if len(awards) else np.nan
    total["retrofit_fuel_poor_share"] = total["retrofits_to_fuel_poor"] / total["retrofits"] if total["retrofits"] > 0 else np.nan
    per_place.loc[ALL_PLACES] = pd.Series(total)
    per_place.index.name = "place_code"
    long = per_place[list(SUMMARY_METRICS)].reset_index().melt(id_vars="place_code", var_name="metric", value_name="value")
    return long


def paired_differences(summary: pd.DataFrame, base: str, alternative: str, *, confidence: float = 0.95) -> pd.DataFrame:
    """Paired differences (alternative - base) over replicates, with t confidence intervals.

    Replicates of the two scenarios share seeds (common random numbers), so each
    replicate's difference removes most of the noise both runs share.

    Parameters
    ----------
    summary : DataFrame
        ``scenario, replicate, place_code, metric, value`` for both scenarios.
    base, alternative : str
        Scenario names.
    confidence : float, default=0.95

    Returns
    -------
    DataFrame
        ``place_code, metric, base_mean, alternative_mean, difference, ci_low, ci_high, n``.
    """
    keys = ["place_code", "metric", "replicate"]
    a = summary[summary["scenario"] == base].set_index(keys)["value"]
    b = summary[summary["scenario"] == alternative].set_index(keys)["value"]
    both = pd.DataFrame({"base": a, "alternative": b}).dropna()
    both["difference"] = both["alternative"] - both["base"]
    grouped = both.groupby(level=["place_code", "metric"], sort=False)
    out = grouped.agg(
        base_mean=("base", "mean"),
        alternative_mean=("alternative", "mean"),
        difference=("difference", "mean"),
        sd=("difference", "std"),
        n=("difference", "size"),
    )
    half = stats.t.ppf(0.5 + confidence / 2, np.maximum(out["n"] - 1, 1)) * out["sd"] / np.sqrt(out["n"])
    half = half.where(out["n"] > 1)
    out["ci_low"] = out["difference"] - half
    out["ci_high"] = out["difference"] + half
    return out.drop(columns="sd").reset_index()
