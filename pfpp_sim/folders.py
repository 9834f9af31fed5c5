"""Results folders read back as the objects that wrote them: :func:`load`.

Every command writes a folder with a ``manifest.json`` whose ``kind`` says what it holds;
:func:`load` returns the same typed object the Python API returned when the folder was
written (:class:`~pfpp_sim.experiment.Results`, :class:`~pfpp_sim.experiment.Comparison`,
:class:`~pfpp_sim.sweep.Sweep`, :class:`~pfpp_sim.attribution.Explanation` or
:class:`~pfpp_sim.robustness.Robustness`), its tables equal to those saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pfpp_sim.attribution import Explanation
from pfpp_sim.errors import PfppError
from pfpp_sim.experiment import Comparison, Results
from pfpp_sim.factors import factor_set
from pfpp_sim.robustness import Robustness, load_robustness
from pfpp_sim.scenario import Scenario, Source
from pfpp_sim.storage import read_json, read_table
from pfpp_sim.sweep import Sweep, read_sweep

__all__ = ["load"]

_RESULT_TABLES = ("monthly", "annual", "awards", "places", "summary", "events", "equity", "spending")


def load(folder: str | Path) -> Results | Comparison | Sweep | Explanation | Robustness:
    """Read a results folder back as the object that wrote it.

    Parameters
    ----------
    folder : str or Path
        A folder written by ``pfpp run``, ``compare``, ``sweep``, ``explain`` or
        ``robustness`` (or their Python functions and ``save``).

    Returns
    -------
    Results, Comparison, Sweep, Explanation or Robustness
        By the manifest's ``kind``. Scenarios are rebuilt from the parameters the manifest
        holds, with the files they were read from.

    Raises
    ------
    PfppError
        If the folder has no manifest, is of an unknown kind, is unfinished, or lacks a
        table its manifest lists (one line naming the folder or file).
    """
    folder = Path(folder)
    if not (folder / "manifest.json").is_file():
        raise PfppError(f"{folder} is not a results folder (expected manifest.json, written by pfpp run, compare, sweep, explain or robustness)")
    manifest = read_json(folder / "manifest.json")
    kind = manifest.get("kind")
    if kind in ("run", "compare"):
        return _results(folder, manifest)
    if kind == "sweep":
        return read_sweep(folder)
    if kind == "explain":
        return _explanation(folder, manifest)
    if kind == "robustness":
        return load_robustness(folder)
    raise PfppError(f"{folder}/manifest.json: kind = {kind!r}: expected run, compare, sweep, explain or robustness")


def _scenario(name: str, entry: dict[str, Any]) -> Scenario:
    """A scenario as a manifest recorded it, with the files it came from."""
    scenario = Scenario.model_validate(entry["parameters"])
    if scenario.scenario_hash() != entry["hash"]:
        raise PfppError(f"manifest scenario {name}: its parameters hash to {scenario.scenario_hash()}, not the recorded {entry['hash']}")
    return scenario._with_sources(tuple(Source(**source) for source in entry.get("sources", [])))


def _files(folder: Path, manifest: dict[str, Any]) -> dict[str, Path]:
    """The files a manifest lists, and the manifest itself, as :meth:`save` returned them."""
    return {**{name: folder / file for name, file in manifest.get("files", {}).items()}, "manifest": folder / "manifest.json"}


def _results(folder: Path, manifest: dict[str, Any]) -> Results:
    scenarios = {name: _scenario(name, entry) for name, entry in manifest["scenarios"].items()}
    tables = {name: read_table(folder / f"{name}.parquet") for name in _RESULT_TABLES}
    files = _files(folder, manifest)
    common = dict(
        scenarios=scenarios, seed=manifest["seed"], replicates=manifest["replicates"], **tables,
        seconds=manifest["seconds"], files=files, execution=manifest.get("execution", {}), warnings=manifest.get("warnings", []),
    )
    if manifest["kind"] == "run":
        return Results(**common)
    return Comparison(
        **common, comparison=read_table(folder / "comparison.parquet"), base=manifest["base"], alternative=manifest["alternative"],
    )


def _explanation(folder: Path, manifest: dict[str, Any]) -> Explanation:
    base = _scenario(manifest["base"], manifest["scenarios"][manifest["base"]])
    alternative = _scenario(manifest["alternative"], manifest["scenarios"][manifest["alternative"]])
    factors = factor_set(base, alternative, groups=manifest.get("groups", []))
    recorded = [f["name"] for f in manifest["factors"]]
    if factors.names != recorded:
        raise PfppError(f"{folder}/manifest.json: the scenarios give the factors {factors.names}, not the recorded {recorded}")
    return Explanation(
        factors, manifest["seed"], manifest["replicates"], manifest["method"], manifest["permutations"],
        read_table(folder / "combinations.parquet"), read_table(folder / "attribution.parquet"), manifest["seconds"],
        files=_files(folder, manifest),
        execution=manifest.get("execution", {}), groups=tuple(manifest.get("groups", [])),
    )
