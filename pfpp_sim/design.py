"""Experimental designs, after SALib: sample a space of parameters, then analyze what the runs gave.

Every sweep, sensitivity analysis and robustness run takes the same three steps, each a
function of explicit inputs and outputs (the middle one, running the design, is
:func:`pfpp_sim.sweep.run_design`)::

    from pfpp_sim.design import Parameter, ParameterSpace, analyze, sample
    from pfpp_sim.sweep import run_design

    space = ParameterSpace({"levers.carry_over": Parameter(levels=[False, True]),
                            "levers.data_sharing": Parameter(low=0.0, high=1.0)})
    design = sample(space, 32, seed=1, method="lhs")
    results = run_design(design, "siloed_baseline", replicates=2)
    indices = analyze(space, results, method="lhs", seed=1)

A space is anything with ``names``, ``problem()`` (SALib's description), ``values(points)``
(scenario values of SALib's points) and ``shares(design)`` (design values as shares of each
range): :class:`ParameterSpace` for sweeps, :class:`pfpp_sim.worlds.Space` for the
assumptions a robustness run samples.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import stats

from pfpp_sim.errors import PfppError
from pfpp_sim.morris import morris_indices

__all__ = ["MEASURES", "METHODS", "RUN_COLUMNS", "WIDE_SOBOL_CI", "Method", "Parameter", "ParameterSpace", "Space", "analyze", "sample"]

Method = Literal["grid", "lhs", "sobol", "morris"]
METHODS: tuple[str, ...] = ("grid", "lhs", "sobol", "morris")
RUN_COLUMNS = ("run_id", "point", "replicate", "place_code")
"""Columns of a results table that name a run, not a parameter or an output."""
WIDE_SOBOL_CI = 0.1
"""Half-width of a Sobol index's 95% CI beyond which the index is flagged as imprecise."""


class Parameter(BaseModel):
    """One swept scenario key: a continuous range or a list of levels."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    low: float | None = Field(None, allow_inf_nan=False, description="lowest value of a range")
    high: float | None = Field(None, allow_inf_nan=False, description="highest value of a range (above low)")
    integer: bool = Field(False, description="round the range's values to whole numbers")
    steps: int | None = Field(None, ge=2, le=100, description="grid points between low and high")
    levels: list[bool | int | float | str | list[str]] | None = Field(None, min_length=1, description="the values taken, instead of a range")

    @model_validator(mode="after")
    def _range_or_levels(self) -> Parameter:
        if self.levels is not None:
            if self.low is not None or self.high is not None:
                raise ValueError("give either levels or low/high, not both")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give low and high, or levels")
        if not self.low < self.high:
            raise ValueError(f"expected low < high, got low={self.low}, high={self.high}")
        return self

    def grid(self) -> list[Any]:
        """Values of this parameter on a grid design."""
        if self.levels is not None:
            return list(self.levels)
        values = np.linspace(self.low, self.high, self.steps or 3)
        return [int(round(v)) for v in values] if self.integer else [float(v) for v in values]

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map sampled values to scenario values (levels: ``u`` in [0, 1) picks one)."""
        if self.levels is not None:
            index = np.minimum((np.asarray(u) * len(self.levels)).astype(int), len(self.levels) - 1)
            return [self.levels[i] for i in index]
        return [int(round(v)) for v in u] if self.integer else [float(v) for v in u]

    def shares(self, values: pd.Series) -> np.ndarray:
        """Values as shares of the range (a level as its index over the last one's)."""
        if self.levels is None:
            return (values.to_numpy(dtype=np.float64) - self.low) / (self.high - self.low)
        lookup = {json.dumps(v): i for i, v in enumerate(self.levels)}
        index = values.map(lambda v: lookup[json.dumps(v.item() if isinstance(v, np.generic) else v)])
        return index.to_numpy(dtype=np.float64) / max(len(self.levels) - 1, 1)

    @property
    def bounds(self) -> list[float]:
        return [0.0, 1.0] if self.levels is not None else [float(self.low), float(self.high)]


class Space(Protocol):
    """What :func:`sample` and :func:`analyze` need of a space of parameters."""

    @property
    def names(self) -> list[str]:
        """Key paths of the parameters: the design's columns, in order."""

    def problem(self) -> dict[str, Any]:
        """SALib's description: ``num_vars``, ``names`` and ``bounds``."""

    def values(self, points: np.ndarray) -> dict[str, list[Any] | np.ndarray]:
        """Scenario values of SALib's points (one row each), by key path."""

    def shares(self, design: pd.DataFrame) -> np.ndarray:
        """A design's values as shares of each parameter's range, one column per parameter."""


@dataclass(frozen=True)
class ParameterSpace:
    """Swept scenario keys, each a range or a list of levels (a sweep spec's ``[parameters]``).

    Attributes
    ----------
    parameters : mapping of str to Parameter
        Key path -> values; this order sets the design's columns.
    """

    parameters: Mapping[str, Parameter]

    @property
    def names(self) -> list[str]:
        """Key paths of the parameters, in order."""
        return list(self.parameters)

    def problem(self) -> dict[str, Any]:
        """SALib's description: a range's own bounds, [0, 1] for levels."""
        return {"num_vars": len(self.parameters), "names": self.names, "bounds": [p.bounds for p in self.parameters.values()]}

    def values(self, points: np.ndarray) -> dict[str, list[Any]]:
        """Scenario values of SALib's points (a level picked by where its point falls in [0, 1))."""
        return {name: p.from_unit(points[:, i]) for i, (name, p) in enumerate(self.parameters.items())}

    def shares(self, design: pd.DataFrame) -> np.ndarray:
        """Design values as shares of each range (a level as its index over the last one's)."""
        return np.column_stack([p.shares(design[name]) for name, p in self.parameters.items()])

    def grid(self) -> pd.DataFrame:
        """Every combination of the parameters' grid values, the first parameter slowest."""
        rows = list(itertools.product(*(p.grid() for p in self.parameters.values())))
        return pd.DataFrame(rows, columns=self.names)


def sample(space: Space, n: int, seed: int, *, method: Method = "lhs", morris_levels: int = 4) -> pd.DataFrame:
    """Design points of a space, one row each, in the order SALib's analyses expect.

    Parameters
    ----------
    space : Space
    n : int
        LHS: points; Sobol: base samples N (a power of two; N (D + 2) points, Saltelli's
        scheme without second-order terms); Morris: trajectories (N (D + 1) points).
        Unused by a grid, whose size the parameters' levels and steps set.
    seed : int
        Seeds the design; a design is a pure function of its arguments.
    method : {"grid", "lhs", "sobol", "morris"}, default="lhs"
    morris_levels : int, default=4
        Grid levels of each parameter in a Morris design.

    Returns
    -------
    DataFrame
        ``point`` (0, 1, ...) then one column per parameter, in scenario values.

    Raises
    ------
    PfppError
        For an unknown method, or a grid of a space that has none.
    """
    if method == "grid":
        if not hasattr(space, "grid"):
            raise PfppError(f"method 'grid': a {type(space).__name__} has no grid; expected lhs, sobol or morris")
        design = space.grid()
    elif method in ("lhs", "sobol", "morris"):
        from SALib.sample import latin, morris, sobol

        problem = space.problem()
        if method == "lhs":
            points = latin.sample(problem, n, seed=seed)
        elif method == "sobol":
            points = sobol.sample(problem, n, calc_second_order=False, seed=seed)
        else:
            points = morris.sample(problem, n, num_levels=morris_levels, seed=seed)
        design = pd.DataFrame(space.values(points))
    else:
        raise PfppError(f"method {method!r}: expected one of {', '.join(METHODS)}")
    design.insert(0, "point", np.arange(len(design), dtype=np.int64))
    return design


MEASURES = {"sobol": ("ST", "total-order Sobol index"), "morris": ("mu_star", "Morris mu*"), "lhs": ("abs_spearman", "|Spearman rank correlation|"), "grid": ("abs_spearman", "|Spearman rank correlation|")}
"""Headline measure of each method, and how people read it."""


def analyze(space: Space, results: pd.DataFrame, *, method: Method, seed: int, outputs: list[str] | None = None) -> pd.DataFrame:
    """Sensitivity indices of every output to every parameter of a design's results.

    Sobol designs give first- and total-order indices (SALib), Morris designs mu* and
    sigma of elementary effects per full range of each parameter (:mod:`pfpp_sim.morris`,
    so that switches and sliders compare), LHS and grid designs Spearman's rank
    correlation of each parameter with each output, a screening measure. Replicates are
    averaged per design point first; a missing value is replaced by the mean of the others.

    Parameters
    ----------
    space : Space
        The space the design was sampled from.
    results : DataFrame
        One row per run: ``point``, the parameters' columns and the outputs' (as
        :func:`pfpp_sim.sweep.run_design` returns), every point of the design present.
    method : {"grid", "lhs", "sobol", "morris"}
        The design's method.
    seed : int
        Seeds the bootstrap of Sobol and Morris confidence intervals.
    outputs : list of str, optional
        The outputs analysed (default: every column that is neither a run's name nor a parameter).

    Returns
    -------
    DataFrame
        ``output, parameter, measure, value, conf, flag``: ``conf`` is a 95% half-width
        where the method gives one; ``flag`` says why a Sobol index should not be read as
        it stands (outside [0, 1], or a CI wider than :data:`WIDE_SOBOL_CI`), else "".
        Morris ``mu_star`` and ``sigma`` are in the output's unit; the other measures have none.
    """
    names = space.names
    outputs = [c for c in results.columns if c not in (*RUN_COLUMNS, *names)] if outputs is None else [o for o in outputs if o in results]
    by_point = results.groupby("point")
    per_point = by_point[outputs].mean().sort_index()
    design = by_point[names].first().sort_index()
    rows = []
    for output in outputs:
        y = per_point[output].to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(y)):
            y = np.where(np.isfinite(y), y, np.nanmean(y) if np.isfinite(y).any() else 0.0)
        if np.ptp(y) == 0:
            rows += [(output, n, MEASURES[method][0], 0.0, np.nan) for n in names]
            continue
        if method == "sobol":
            from SALib.analyze import sobol

            res = sobol.analyze(space.problem(), y, calc_second_order=False, seed=seed)
            for i, n in enumerate(names):
                rows += [(output, n, "S1", res["S1"][i], res["S1_conf"][i]), (output, n, "ST", res["ST"][i], res["ST_conf"][i])]
        elif method == "morris":
            res = morris_indices(space.shares(design), y, seed=seed)
            for i, n in enumerate(names):
                rows += [(output, n, "mu_star", res["mu_star"][i], res["mu_star_conf"][i]), (output, n, "sigma", res["sigma"][i], np.nan)]
        else:
            x = space.shares(design)
            for i, n in enumerate(names):
                rho = stats.spearmanr(x[:, i], y).statistic if np.ptp(x[:, i]) > 0 else 0.0
                rows += [(output, n, "spearman", rho, np.nan), (output, n, "abs_spearman", abs(rho), np.nan)]
    indices = pd.DataFrame(rows, columns=["output", "parameter", "measure", "value", "conf"])
    return indices.assign(flag=[_flag(r.measure, r.value, r.conf) for r in indices.itertuples()])


def _flag(measure: str, value: float, conf: float) -> str:
    """Why a Sobol index should not be read as it stands ("" if it can be)."""
    if measure not in ("S1", "ST"):
        return ""
    if value < 0 or value > 1:
        return "outside [0, 1]: more samples needed"
    if np.isfinite(conf) and conf > WIDE_SOBOL_CI:
        return f"wide CI (+/-{conf:.2f}): more samples needed"
    return ""
