"""What moves the mean fuel-poverty rate of baseline_history from one data year to the next.

Runs ``baseline_history`` over every English authority as ``pfpp calibrate`` runs it (from
January 2019, 1:100 with at least 2,000 households and 20,000 young people a place, the
shipped fit), once as it is and once with each named mechanism switched off, and prints
the mean over places of the fuel-poverty rate of each calendar year and its change from
the year before, per replicate, under the same mean of the published rates (LILEE data years). The mean over places is what the held-out check of
``pfpp calibrate --places all --holdout-last-year`` compares with the published change.

Usage::

    python tools/replay_swings.py [--replicates 2] [--months 36] [--without stream_churn ...]

``--without`` takes any of: ``stream_churn`` (no stream is discontinued),
``household_effects`` (income advice, bill support and retrofits change nothing),
``fit`` (no fitted trends), ``youth_earnings`` (young people's pay adds nothing to their
homes' incomes). Each run takes about half a minute on one core.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from pfpp_sim import data
from pfpp_sim.calibration.targets import observed_targets
from pfpp_sim.exogenous import month_dates
from pfpp_sim.model import PfppModel
from pfpp_sim.scenario import Scenario, load_scenario

CALIBRATION_RUN = {
    "run.places": "all", "run.scale": 0.01, "run.min_households_per_place": 2000,
    "run.min_young_people_per_place": 20000, "run.start": "2019-01",
}
SWITCHED_OFF = {
    "stream_churn": {"mechanisms.stream_churn.value": 0.0},
    "household_effects": {f"interventions.{key}.effect.value": 0.0 for key in ("income_advice", "bill_support", "retrofit")},
    "youth_earnings": {"world.young_people.youth_earnings.value": 0.0},
    "fit": {},
}


def scenario(months: int, without: str | None) -> Scenario:
    """``baseline_history`` as the calibration runs it, with one mechanism switched off (None: none)."""
    base = load_scenario("baseline_history", calibration="none" if without == "fit" else None)
    return base.with_overrides({**CALIBRATION_RUN, "run.horizon_months": months, **SWITCHED_OFF.get(without or "", {})})


def yearly_place_mean(model: PfppModel) -> pd.Series:
    """Mean over places of each calendar year's mean monthly fuel-poverty rate, in percent."""
    rates = np.array([record["fuel_poverty_rate"] for record in model.records]).mean(axis=1)
    years = month_dates(model.scenario.run.start, model.horizon).year
    return pd.Series(rates, index=years).groupby(level=0).mean() * 100


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=2)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--without", nargs="*", default=list(SWITCHED_OFF), choices=list(SWITCHED_OFF))
    args = parser.parse_args(argv)
    print("| run | replicate | mean over places by year (%) | change from the year before (pp) |")
    print("|---|---:|---|---|")
    codes = data.places("all")["area_code"].tolist()
    published = observed_targets(codes).query("metric == 'fuel_poverty_rate'").groupby("year")["observed"].mean() * 100
    _row("published", "", published)
    for without in [None, *args.without]:
        for replicate in range(args.replicates):
            means = yearly_place_mean(PfppModel(scenario(args.months, without), seed=1, replicate=replicate).run())
            _row("as it is" if without is None else f"without {without}", replicate, means)


def _row(run: str, replicate, means: pd.Series) -> None:
    levels = ", ".join(f"{year}: {value:.3f}" for year, value in means.items())
    changes = ", ".join(f"{year}: {value:+.3f}" for year, value in means.diff().dropna().items())
    print(f"| {run} | {replicate} | {levels} | {changes} |", flush=True)


if __name__ == "__main__":
    main()
