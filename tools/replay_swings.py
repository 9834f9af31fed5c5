"""What moves the mean fuel-poverty rate of baseline_history from one data year to the next.

Runs ``baseline_history`` over every English authority as ``pfpp calibrate`` runs it
(:class:`~pfpp_sim.calibration.Settings`: from January 2019, 1:100 with at least 2,000
households and 20,000 young people a place, its seed, the shipped fit), once as it is and
once with each named change, and prints the mean over places of the fuel-poverty rate of
each calendar year and its change from the year before, per replicate, under the same mean
of the published rates (LILEE data years). The mean over places is what the held-out check
of ``pfpp calibrate --places all --holdout-last-year`` compares with the published change.

Usage::

    python tools/replay_swings.py [--replicates 2] [--months 36] [--change stream_churn ...]

``--change`` takes any of: ``stream_churn`` (streams discontinued at random at
``siloed_baseline``'s rate, E55, as the replay did before it was set to 0),
``household_effects`` (income advice, bill support and retrofits change nothing),
``fit`` (no fitted trends), ``youth_earnings`` (young people's pay adds nothing to their
homes' incomes). Each run takes about half a minute on one core.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from pfpp_sim import data
from pfpp_sim.calibration import Settings
from pfpp_sim.calibration.targets import observed_targets
from pfpp_sim.exogenous import month_dates
from pfpp_sim.model import PfppModel
from pfpp_sim.scenario import Scenario, load_scenario

SETTINGS = Settings()
"""The calibration's own settings: where it starts, its scale and sample sizes, its seed."""
CHANGES = {
    "stream_churn": {"mechanisms.stream_churn.value": load_scenario("siloed_baseline").mechanisms.stream_churn.value},
    "household_effects": {f"interventions.{key}.effect.value": 0.0 for key in ("income_advice", "bill_support", "retrofit")},
    "youth_earnings": {"world.young_people.youth_earnings.value": 0.0},
    "fit": {},
}
"""What each ``--change`` does to the replay."""


def scenario(months: int, change: str | None) -> Scenario:
    """``baseline_history`` as the calibration runs it, with one change (None: none)."""
    base = load_scenario("baseline_history", calibration="none" if change == "fit" else None)
    run = {
        "run.places": "all", "run.start": SETTINGS.start, "run.scale": SETTINGS.scale, "run.horizon_months": months,
        "run.min_households_per_place": SETTINGS.min_households_per_place,
        "run.min_young_people_per_place": SETTINGS.min_young_people_per_place,
    }
    return base.with_overrides({**run, **CHANGES.get(change or "", {})})


def yearly_place_mean(model: PfppModel) -> pd.Series:
    """Mean over places of each calendar year's mean monthly fuel-poverty rate, in percent."""
    rates = np.array([record["fuel_poverty_rate"] for record in model.records]).mean(axis=1)
    years = month_dates(model.scenario.run.start, model.horizon).year
    return pd.Series(rates, index=years).groupby(level=0).mean() * 100


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=2)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--change", nargs="*", default=list(CHANGES), choices=list(CHANGES))
    args = parser.parse_args(argv)
    print("| run | replicate | mean over places by year (%) | change from the year before (pp) |")
    print("|---|---:|---|---|")
    codes = data.places("all")["area_code"].tolist()
    published = observed_targets(codes).query("metric == 'fuel_poverty_rate'").groupby("year")["observed"].mean() * 100
    _row("published", "", published)
    for change in [None, *args.change]:
        for replicate in range(args.replicates):
            means = yearly_place_mean(PfppModel(scenario(args.months, change), seed=SETTINGS.seed, replicate=replicate).run())
            _row("as it is" if change is None else f"with {change} changed", replicate, means)


def _row(run: str, replicate, means: pd.Series) -> None:
    levels = ", ".join(f"{year}: {value:.3f}" for year, value in means.items())
    changes = ", ".join(f"{year}: {value:+.3f}" for year, value in means.diff().dropna().items())
    print(f"| {run} | {replicate} | {levels} | {changes} |", flush=True)


if __name__ == "__main__":
    main()
