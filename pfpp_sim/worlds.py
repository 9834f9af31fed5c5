"""Sampled worlds: the uncertain quantities two scenarios share, sampled over their ranges.

A *world* is one set of values for the deeply uncertain quantities of a comparison,
applied to both scenarios alike. The quantities are found in the base scenario itself:
every value that rests on an assumption, the registry's (``source = "assumption:<name>"``)
or the analyst's own (``source = "user:<KEY>"``, declared in the scenario's
``[user_sources]``), and carries a plausible ``low``/``high`` range, and, on request, every
evidence value with a published range (fixed per world instead of drawn per replicate). A quantity the alternative sets
differently (a lever, or an assumption it overrides) is part of what is being compared,
so it is not sampled: each scenario keeps its own value, and :class:`Space` says so.

Each quantity is sampled uniformly over its range: an assumption's range says what is
plausible, not what is likely (deep uncertainty, as in EMA Workbench). Designs are SALib's
Latin hypercube, Sobol' (Saltelli's scheme, for Sobol indices) and Morris trajectories,
all seeded; ``sample(space, n, seed)`` is a pure function of its arguments.

References
----------
Kwakkel, J. H. (2017). The Exploratory Modeling Workbench. Environmental Modelling &
Software 96, 239-250. https://doi.org/10.1016/j.envsoft.2017.06.054
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from pfpp_sim import design as designs
from pfpp_sim.errors import ScenarioError
from pfpp_sim.evidence import is_assumption, is_calibrated, sourced_parameters
from pfpp_sim.scenario import RunSettings, Scenario

__all__ = [
    "DESIGNS",
    "MORRIS_LEVELS",
    "OPTIONS",
    "Design",
    "Factor",
    "Space",
    "apply_world",
    "check_comparable",
    "check_samples",
    "sample",
    "uncertainty_space",
]

Design = Literal["lhs", "sobol", "morris"]
DESIGNS: tuple[str, ...] = ("lhs", "sobol", "morris")
MORRIS_LEVELS = 4
"""Grid levels of a Morris design."""
OPTIONS = "robustness"
"""What errors about a robustness run's options name as their file."""


@dataclass(frozen=True)
class Factor:
    """One sampled quantity: a sourced value both scenarios hold, with its plausible range.

    Attributes
    ----------
    path : str
        Key path of the sourced value, e.g. ``"world.young_people.neet_exit_hazard"``.
    unit, source : str
        As in the scenario (``source`` is ``"assumption:<name>"``, ``"user:<KEY>"`` or evidence).
    value : float
        The value as given: the default world.
    low, high : float
        The range sampled, ``low < high``.
    """

    path: str
    unit: str
    source: str
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Space:
    """The quantities sampled in every world, and those left out with the reason.

    Attributes
    ----------
    factors : tuple of Factor
        In the base scenario's order; this order sets the design's columns.
    not_sampled : tuple of (str, str)
        Key path and reason for each ranged quantity that is not sampled.
    include_evidence : bool
        Whether evidence values with a published range are sampled too.
    """

    factors: tuple[Factor, ...]
    not_sampled: tuple[tuple[str, str], ...] = ()
    include_evidence: bool = False

    @property
    def names(self) -> list[str]:
        """Key paths of the factors, the design's columns."""
        return [f.path for f in self.factors]

    def problem(self) -> dict[str, Any]:
        """The SALib problem description: one variable per factor over its range."""
        return {"num_vars": len(self.factors), "names": self.names, "bounds": [[f.low, f.high] for f in self.factors]}

    def values(self, points: np.ndarray) -> dict[str, np.ndarray]:
        """Factor values of SALib's points: the points themselves, as float64, by key path."""
        return {name: points[:, i].astype(np.float64) for i, name in enumerate(self.names)}

    def shares(self, design: pd.DataFrame) -> np.ndarray:
        """A design's values as shares of each factor's range."""
        bounds = np.array(self.problem()["bounds"], dtype=np.float64).reshape(-1, 2)
        return (design[self.names].to_numpy(dtype=np.float64) - bounds[:, 0]) / (bounds[:, 1] - bounds[:, 0])

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready description, as written into a manifest."""
        return {
            "include_evidence": self.include_evidence,
            "factors": [vars(f) for f in self.factors],
            "not_sampled": [{"path": path, "reason": reason} for path, reason in self.not_sampled],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Space:
        """The space described by :meth:`to_json`."""
        return cls(
            factors=tuple(Factor(**f) for f in data["factors"]),
            not_sampled=tuple((n["path"], n["reason"]) for n in data["not_sampled"]),
            include_evidence=bool(data["include_evidence"]),
        )


def check_comparable(base: Scenario, alternative: Scenario, *, base_label: str, alternative_label: str) -> None:
    """Refuse two scenarios that do not run over the same places, months, scale and calibration.

    A world is one set of assumptions applied to both scenarios; the comparison only
    means something if both are run over the same population and period.

    Raises
    ------
    ScenarioError
        Naming the alternative, the first run setting that differs, its value and the base's.
    """
    for key in RunSettings.model_fields:
        mine, theirs = getattr(alternative.run, key), getattr(base.run, key)
        if mine != theirs:
            raise ScenarioError(
                alternative_label, f"run.{key}", mine,
                f"the same as in {base_label} ({_short(theirs)}): robustness runs both scenarios over the same places, months and scale",
            )
    mine, theirs = alternative.calibration, base.calibration
    if mine != theirs:
        raise ScenarioError(
            alternative_label, "calibration", mine.name if mine else "none",
            f"the same calibration as {base_label} ({theirs.name if theirs else 'none'}): robustness compares scenarios fitted alike",
        )


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def uncertainty_space(base: Scenario, alternative: Scenario, *, include_evidence: bool = False) -> Space:
    """The quantities a robustness run samples: found in the scenarios, never listed in code.

    Parameters
    ----------
    base, alternative : Scenario
    include_evidence : bool, default=False
        Also sample evidence values with a published range (fixed per world; by default
        they are drawn per replicate, as in every run).

    Returns
    -------
    Space
        A factor for each assumption, the registry's or the analyst's own (and each
        evidence value, if asked), of ``base`` with a range of non-zero width that
        ``alternative`` holds unchanged; the others with a range, and why each is not
        sampled.
    """

    def uncertain(value) -> bool:
        if value.low is None or is_calibrated(value.source):
            return False
        return is_assumption(value.source) or include_evidence

    ours, theirs = dict(sourced_parameters(base)), dict(sourced_parameters(alternative))
    factors, not_sampled = [], []
    for path, value in ours.items():
        if not uncertain(value):
            continue
        other = theirs.get(path)
        if other is None:
            not_sampled.append((path, f"{alternative.name} does not have it: only {base.name} runs with it"))
        elif other != value:
            shown = f"{other.value:g} {other.unit} ({other.source})"
            not_sampled.append((path, f"{alternative.name} sets it differently ({shown}): each scenario keeps its own value"))
        elif value.low == value.high:
            not_sampled.append((path, "its range has zero width"))
        else:
            factors.append(Factor(path, value.unit, value.source, value.value, value.low, value.high))
    for path, value in theirs.items():
        if uncertain(value) and (path not in ours or not uncertain(ours[path])):
            not_sampled.append((path, f"only {alternative.name} gives it a range: each scenario keeps its own value"))
    return Space(tuple(factors), tuple(not_sampled), include_evidence)


def check_samples(space: Space, n: int, design: str) -> None:
    """Refuse a design that cannot be drawn, before anything is written.

    Raises
    ------
    ScenarioError
        Naming the option (``samples`` or ``design``), its value and what was expected,
        or ``assumptions`` when the base scenario holds no ranged quantity to sample.
    """
    if design not in DESIGNS:
        raise ScenarioError(OPTIONS, "design", design, f"one of {', '.join(DESIGNS)}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ScenarioError(OPTIONS, "samples", n, "a whole number of at least 1")
    if design == "sobol" and n & (n - 1):
        below = 1 << (int(n).bit_length() - 1)
        raise ScenarioError(OPTIONS, "samples", n, f"a power of two for the sobol design (e.g. {below} or {2 * below})")
    if design == "morris" and n < 2:
        raise ScenarioError(OPTIONS, "samples", n, "at least 2 trajectories for the morris design")
    if not space.factors:
        left = f"; not sampled: {', '.join(p for p, _ in space.not_sampled)}" if space.not_sampled else ""
        raise ScenarioError(
            OPTIONS, "assumptions", 0, f"at least one assumption of the base scenario with a low/high range to sample{left}"
        )


def sample(space: Space, n: int, seed: int, *, design: Design = "lhs") -> pd.DataFrame:
    """Worlds of a design: the default world, then ``n`` design points in SALib's order.

    Parameters
    ----------
    space : Space
    n : int
        LHS: worlds; Sobol: base samples N (a power of two; N (D + 2) worlds);
        Morris: trajectories (N (D + 1) worlds).
    seed : int
        Seeds the design (0 is valid).
    design : {"lhs", "sobol", "morris"}, default="lhs"

    Returns
    -------
    DataFrame
        ``world`` (0 is the default world: the scenarios as given), ``sampled`` (bool),
        then one float64 column per factor in the factors' units.

    Raises
    ------
    ScenarioError
        If ``n`` or ``design`` is not valid for the space (see :func:`check_samples`).
    """
    check_samples(space, n, design)
    points = designs.sample(space, n, seed, method=design, morris_levels=MORRIS_LEVELS).drop(columns="point")
    default = pd.DataFrame([[f.value for f in space.factors]], columns=space.names)
    table = pd.concat([default, points], ignore_index=True).astype(np.float64)
    table.insert(0, "sampled", np.arange(len(table)) > 0)
    table.insert(0, "world", np.arange(len(table), dtype=np.int64))
    return table


def apply_world(base: Scenario, alternative: Scenario, values: Mapping[str, float]) -> tuple[Scenario, Scenario]:
    """Both scenarios in one world: each factor set to the same value in both.

    Parameters
    ----------
    values : mapping of str to float
        Key path -> value; an empty mapping is the default world (the scenarios as given).

    Returns
    -------
    (Scenario, Scenario)
        The base and the alternative, each sampled value a point value (no range), so no
        replicate draws it again.
    """
    overrides = {f"{path}.value": float(value) for path, value in values.items()}
    if not overrides:
        return base, alternative
    return base.with_overrides(overrides), alternative.with_overrides(overrides)
