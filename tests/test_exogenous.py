"""Exogenous monthly paths: the price households pay and the national median income."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pfpp_sim.exogenous import exogenous_paths
from pfpp_sim.scenario import load_scenario


def paths(start: str = "2021-04", horizon: int = 30, name: str = "siloed_baseline"):
    scenario = load_scenario(name).with_overrides({"run.start": start, "run.horizon_months": horizon})
    return scenario, exogenous_paths(scenario)


def test_households_pay_the_price_cap_and_the_energy_price_guarantee_in_2022_by_default():
    # Bills under the price cap and the Energy Price Guarantee are the cap (E08-E16): the
    # whole rise of 2022 reaches households, with the shipped calibration as without one.
    for name in ("siloed_baseline", "baseline_history"):
        scenario, exo = paths(name=name)
        assert scenario.world.households.price_pass_through.value == 1.0
        price = pd.Series(exo.price_gbp, index=exo.dates)
        assert price["2021-04-01"] == 1138
        assert price["2022-04-01"] == 1971
        assert price["2022-10-01"] == 2500  # EPG, below the 3,549 cap
        assert price["2023-07-01"] == 2074
