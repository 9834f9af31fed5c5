"""Fitted calibrations: the TOML files ``pfpp calibrate`` writes and scenarios name.

A scenario names a fit with ``calibration = "pilots"``. The name is looked up first in
``calibration/fitted/`` under the current directory (where ``pfpp calibrate`` writes),
then among the fits shipped with the package (``calibration/fitted/`` of the repository,
installed as ``pfpp_sim.fits``). Loading a scenario
embeds the fit: its per-place parameters become ``Scenario.calibration`` and its global
parameters replace the scenario's values (with source ``calibrated:<name>``), so the
scenario hash and every manifest cover what was fitted.
"""

from __future__ import annotations

import math
import re
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pfpp_sim.errors import ScenarioError
from pfpp_sim.storage import read_toml, write_text

__all__ = [
    "FIT_DIR", "Estimate", "FitFile", "FitWarning", "fit_origin", "fit_path", "list_fits", "read_fit", "read_fit_file",
    "write_fit",
]

FIT_DIR = Path("calibration") / "fitted"
"""Where ``pfpp calibrate`` writes fits, relative to the current directory."""
PLACE_PARAMETERS = ("income_trend", "neet_trend")
"""Per-place parameters a fit holds (see :class:`pfpp_sim.scenario.PlaceFit`)."""
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


class Estimate(BaseModel):
    """A fitted value with its approximate standard error (None when not identified)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    value: float = Field(allow_inf_nan=False)
    se: float | None = Field(default=None, ge=0)
    unit: str = ""


class FitWarning(BaseModel):
    """Why a fit, or one of its parameters, should not be read as an estimate.

    ``kind`` is ``"not_converged"`` (the optimiser stopped before meeting its tolerances),
    ``"not_identified"`` (no standard error, or one wider than the parameter's bounds) or
    ``"not_distinguishable_from_zero"`` (a standard error larger than the value).
    ``parameter`` and ``place_code`` are empty when they do not apply (a fit-wide warning,
    a global parameter); ``message`` names them and the numbers.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    kind: Literal["not_converged", "not_identified", "not_distinguishable_from_zero"]
    parameter: str = ""
    place_code: str = ""
    message: str = Field(min_length=1)


class FitFile(BaseModel):
    """The contents of a fitted-calibration TOML file."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    name: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    fitted_on: str = Field(pattern=r"^\d{4}-\d\d-\d\d$")
    data_through: dict[str, int]
    objective: float = Field(ge=0, allow_inf_nan=False)
    moments: int = Field(ge=0)
    settings: dict[str, int | float | str | list[str]] = Field(default_factory=dict)
    globals: dict[str, Estimate] = Field(default_factory=dict)
    places: dict[str, dict[str, Estimate]] = Field(default_factory=dict)
    derived_places: dict[str, list[str]] = Field(default_factory=dict)  # county -> its fitted districts (calibration.counties)
    warnings: list[FitWarning] = Field(default_factory=list)

    def embedded(self) -> dict:
        """The per-place values as stored in a scenario (``Scenario.calibration``)."""
        return {
            "name": self.name,
            "fitted_on": self.fitted_on,
            "data_through": dict(self.data_through),
            "places": {code: {k: est.value for k, est in params.items()} for code, params in self.places.items()},
        }


def _shipped_dir() -> Path:
    return Path(str(resources.files("pfpp_sim.fits")))


def list_fits() -> list[str]:
    """Names of the fits a scenario can name: the current directory's, then the shipped ones."""
    return sorted({p.stem for d in (FIT_DIR, _shipped_dir()) for p in d.glob("*.toml")})


def fit_path(name: str) -> Path | None:
    """Path of the fit called ``name`` (current directory first), or None."""
    if not _NAME.match(name):
        return None
    for directory in (FIT_DIR, _shipped_dir()):
        path = directory / f"{name}.toml"
        if path.is_file():
            return path
    return None


def fit_origin(name: str) -> tuple[Path, str]:
    """Where the fit called ``name`` is read from: its path, and ``"shipped"``, ``"file"`` or ``"file replacing shipped"``.

    A fit in ``./calibration/fitted/`` replaces the shipped fit of the same name (that is
    how ``pfpp calibrate`` refits the pilots for runs from that folder), so callers say
    which one was used.
    """
    path = fit_path(name)
    if path is None:
        raise ValueError(f"no fit called {name!r}")
    shipped = _shipped_dir() / path.name
    if path.resolve().parent == _shipped_dir().resolve():
        return path, "shipped"
    if shipped.is_file() and shipped.read_bytes() == path.read_bytes():  # the repository's copy, run from its root
        return shipped, "shipped"
    return path, "file replacing shipped" if shipped.is_file() else "file"


def read_fit(name: str, *, named_in: str | Path) -> FitFile:
    """Read and validate the fit called ``name``.

    Parameters
    ----------
    name : str
        Fit name, letters, digits and underscores.
    named_in : str or Path
        The scenario that names it, for error messages.

    Raises
    ------
    ScenarioError
        If no such fit exists or its file is invalid.
    """
    path = fit_path(name) if isinstance(name, str) else None
    if path is None:
        raise ScenarioError(named_in, "calibration", name, f"'none' or a fitted calibration ({', '.join(list_fits()) or 'none fitted'})")
    return read_fit_file(path)


def read_fit_file(path: Path) -> FitFile:
    """Read and validate a fit file given by its path (``pfpp run --calibration PATH``).

    Raises
    ------
    ScenarioError
        Naming the file (and the key) if it is missing or not a valid fit.
    """
    data, _ = read_toml(path, what="fitted calibration file")
    try:
        return FitFile.model_validate(data)
    except ValidationError as err:
        key = ".".join(str(p) for p in err.errors()[0]["loc"])
        raise ScenarioError(path, key, str(path), f"a valid fitted calibration ({str(err).splitlines()[0]})") from err


def _toml_value(value) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(float(value)) if math.isfinite(value) else '"nan"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_key(key: str) -> str:
    return key if _NAME.match(key) else _toml_value(key)


def write_fit(fit: FitFile, path: str | Path, *, header: str = "") -> Path:
    """Write a fit as TOML (atomically) and return its path."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for key in ("name", "fitted_on", "data_through", "objective", "moments", "settings"):
        lines.append(f"{key} = {_toml_value(getattr(fit, key))}")
    if fit.derived_places:
        lines.append(f"derived_places = {_toml_value(fit.derived_places)}")
    lines += ["", "[globals]"]
    lines += [f"{_toml_key(k)} = {_toml_value(e.model_dump())}" for k, e in fit.globals.items()]
    for code, params in fit.places.items():
        lines += ["", f"[places.{code}]"]
        lines += [f"{k} = {_toml_value(e.model_dump())}" for k, e in params.items()]
    for warning in fit.warnings:
        lines += ["", "[[warnings]]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in warning.model_dump().items()]
    return write_text("\n".join(lines) + "\n", Path(path))
