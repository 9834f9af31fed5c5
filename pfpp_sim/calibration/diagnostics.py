"""Warnings about a fit: an optimiser that stopped early, parameters the data do not pin down.

:func:`~pfpp_sim.calibration.fit.calibrate` stores these warnings in the fit
(:attr:`~pfpp_sim.calibration.fitted.FitFile.warnings`), so the fitted TOML, the fit
report and ``pfpp calibrate`` all show the same ones. Each names the parameter, its
place and the numbers that raised it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pfpp_sim.calibration.fitted import FitWarning

__all__ = ["convergence_warnings", "identification_warnings", "unidentified"]


def convergence_warnings(*, converged: bool, steps: int, max_steps: int, objective: float, detail: str) -> list[FitWarning]:
    """Warn if the optimiser stopped before converging.

    A fit stopped by its step limit (``--max-iterations``) is wherever the optimiser had
    got to, not an optimum: its values and standard errors are not estimates.

    Parameters
    ----------
    converged : bool
        Whether the optimiser met one of its tolerances (``OptimizeResult.success``).
    steps : int
        Evaluations of the objective the optimiser made.
    max_steps : int
        The most it was allowed (``Settings.max_iterations``).
    objective : float
        Sum of squared standardised errors where it stopped.
    detail : str
        The optimiser's own message.

    Returns
    -------
    list of FitWarning
        Empty if the optimiser converged, otherwise one ``"not_converged"`` warning.
    """
    if converged:
        return []
    message = (
        f"not converged: the optimiser stopped after {steps} of at most {max_steps} steps, objective {objective:.4g}, "
        f"without meeting its tolerances ({detail.rstrip('.')}); fit again with a larger --max-iterations "
        "before reading the values as estimates"
    )
    return [FitWarning(kind="not_converged", message=message)]


def unidentified(parameters: pd.DataFrame) -> pd.DataFrame:
    """Fitted parameters the data do not pin down, or cannot tell from zero.

    A parameter is *not identified* when it has no standard error, or one wider than its
    bounds (its value is no better than its starting point); it is *not distinguishable
    from zero* when its standard error is larger than its value (a trend that may be none).
    Neither may be read as an estimated effect.

    Parameters
    ----------
    parameters : DataFrame
        ``parameter, place_code, value, se, unit, low, high`` (``place_code`` missing for a
        global parameter, ``se`` NaN where the fit gives none).

    Returns
    -------
    DataFrame
        The flagged rows, with a ``kind`` column: ``"not_identified"`` or
        ``"not_distinguishable_from_zero"``.
    """
    se = parameters["se"].to_numpy(dtype=float)
    width = (parameters["high"] - parameters["low"]).to_numpy(dtype=float)
    value = parameters["value"].to_numpy(dtype=float)
    kind = np.select(
        [~np.isfinite(se), se > width, se > np.abs(value)],
        ["not_identified", "not_identified", "not_distinguishable_from_zero"],
        "",
    )
    return parameters.assign(kind=kind)[kind != ""].reset_index(drop=True)


def identification_warnings(flagged: pd.DataFrame) -> list[FitWarning]:
    """One warning per parameter :func:`unidentified` flagged, naming it and its numbers.

    Parameters
    ----------
    flagged : DataFrame
        As returned by :func:`unidentified`.

    Returns
    -------
    list of FitWarning
    """
    warnings = []
    for row in flagged.itertuples():
        code = row.place_code if isinstance(row.place_code, str) else ""
        what = f"{row.parameter} of {code}" if code else f"{row.parameter} (all places)"
        stated = f"{what} = {row.value:.4g} {row.unit}".rstrip()
        if not np.isfinite(row.se):
            why = "has no standard error (no fitted moment moves it)"
        elif row.kind == "not_identified":
            why = f"has a standard error of {row.se:.3g}, wider than its bounds {row.low:g} to {row.high:g}"
        else:
            why = f"has a standard error of {row.se:.3g}, larger than its value"
        message = f"{row.kind.replace('_', ' ')}: {stated} {why}"
        warnings.append(FitWarning(kind=row.kind, parameter=row.parameter, place_code=code, message=message))
    return warnings
