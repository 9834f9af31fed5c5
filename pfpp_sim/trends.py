"""Fitted trends over time: at their fitted rate within their data years, damped beyond them.

A place's fitted trends (:class:`~pfpp_sim.scenario.PlaceFit`, log points a year) describe
the years they were fitted to. Up to the centre of their series' last data year (the month
its published rate describes, :func:`data_centre`) they act at their fitted rate. Beyond it
they go on as a damped trend (Gardner & McKenzie 1985): in the
``k``-th month after the data end the trend moves at its fitted rate times
``damping ** (k / 12)``, so its drift beyond the data converges instead of growing without
limit. ``damping`` is ``world.trend_damping`` (assumption:trend_damping): 0, when a
scenario does not set it, holds the trend still at the data end; 1 would continue it
undamped.

References
----------
Gardner, E. S. and McKenzie, E. (1985). Forecasting trends in time series.
*Management Science* 31(10), 1237-1246. https://doi.org/10.1287/mnsc.31.10.1237
"""

from __future__ import annotations

import numpy as np

__all__ = ["damped_trend_years", "data_centre", "months_between", "years_beyond_data"]


def data_centre(metric: str, year: int) -> str:
    """First month (YYYY-MM) after the centre of a series' data year: where its published rate stands.

    A published rate is a mean over its data year, so it describes the level at the
    year's centre, not at its end: a LILEE fuel-poverty data year is January to December
    (data year 2021: centre 1 July, so ``"2021-07"``); a DfE NEET 16-17 time period is the
    mean of December, January and February (period 2024: centre mid-January, so
    ``"2024-02"``). A trend that acted up to the data's end would carry half a year of
    itself into the next year's mean beyond the data (a fuel-poverty trend held from
    January) although the published changes do not carry on (the change correlations of
    the calibration report are negative), so fitted trends stop here.

    Parameters
    ----------
    metric : str
        ``"fuel_poverty_rate"`` or ``"neet_16_17_rate"``.
    year : int
        The data year or time period.

    Returns
    -------
    str
    """
    return f"{year}-07" if metric == "fuel_poverty_rate" else f"{year}-02"


def months_between(first: str, later: str) -> int:
    """Months from ``first`` to ``later`` (both YYYY-MM); negative when ``later`` comes first."""
    return (int(later[:4]) - int(first[:4])) * 12 + int(later[5:7]) - int(first[5:7])


def damped_trend_years(months_after_end, damping: float) -> np.ndarray:
    """Years of fitted trend a series has moved by, ``m`` months after its data end.

    Month ``k`` after the end (``k = 1 ... m``) moves by a twelfth of the trend times
    ``damping ** (k / 12)``, so the drift is ``trend * sum(q ** k for k in 1..m) / 12``
    with ``q = damping ** (1 / 12)``: the damped trend of Gardner & McKenzie (1985) with
    a month as its period. It converges to ``q / (1 - q) / 12`` years of trend as ``m``
    grows (4.4 at a damping of 0.8, against ``0.8 / (1 - 0.8) = 4`` in yearly steps).

    Parameters
    ----------
    months_after_end : int or ndarray of int
        Months after the data end; zero or negative (at or before the end) give 0.
    damping : float
        ``world.trend_damping``, in [0, 1]: 0 holds the trend still after the data, 1
        continues it undamped (``m / 12``).

    Returns
    -------
    ndarray of float64, the shape of ``months_after_end``
        Years of trend.

    References
    ----------
    Gardner, E. S. and McKenzie, E. (1985). https://doi.org/10.1287/mnsc.31.10.1237
    """
    months = np.maximum(np.asarray(months_after_end, dtype=np.int64), 0)
    if damping <= 0.0:
        return np.zeros(months.shape)
    if damping >= 1.0:
        return months / 12.0
    q = damping ** (1.0 / 12.0)
    return q * (1.0 - q**months) / (1.0 - q) / 12.0


def years_beyond_data(first: str, trend_end: str | None, months: int, damping: float) -> np.ndarray:
    """Years of trend that act beyond its data end from month ``first`` to each of the next ``months`` months.

    Parameters
    ----------
    first : str
        The month counted from (YYYY-MM): a run's start, or where a published rate stands.
    trend_end : str or None
        First month after the trend's data (the centre of its last data year,
        :meth:`~pfpp_sim.scenario.Calibration.trend_end`); None when it acts throughout.
    months : int
        Months counted, ``>= 0``.
    damping : float
        ``world.trend_damping``, in [0, 1].

    Returns
    -------
    ndarray of float64, shape (months + 1,)
        Element ``t``: years of trend beyond the data end between ``first`` and ``t``
        months later (0 before the end, when the trend is held or when it has no end).
    """
    if trend_end is None:
        return np.zeros(months + 1)
    lag = months_between(trend_end, first)  # negative: ``first`` is within the data years
    return damped_trend_years(lag + np.arange(months + 1), damping) - damped_trend_years(lag, damping)
