"""Digests of the model's outputs, to show that a change meant for speed changes no result.

Run ``python tools/output_digest.py [--runs N]`` before and after a change: it prints a
SHA-256 digest (16 hex digits) of every table of ``siloed_baseline`` and
``pfpp_joined_up`` (36 months, seed 3, replicates 0 and 1), and of the results of the
first ``--runs`` design points of ``sweeps/levers_lhs.toml`` (default 12), run in this
process by :func:`pfpp_sim.sweep.run_design`. Equal digests before and after mean equal
outputs, to the bit.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import pandas as pd

from pfpp_sim import load_scenario
from pfpp_sim.experiment import run_replicate
from pfpp_sim.sweep import design_of, load_sweep, run_design

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("monthly", "places", "awards", "summary", "events", "equity", "spending")


def digest(tables: list[pd.DataFrame]) -> str:
    """Digest of tables' values, column names and dtypes, in order."""
    hashed = hashlib.sha256()
    for table in tables:
        hashed.update(repr(list(zip(table.columns, table.dtypes.astype(str)))).encode())
        hashed.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
    return hashed.hexdigest()[:16]


def scenario_digests(horizon: int = 36, seed: int = 3) -> dict[str, str]:
    """Each table of two presets, over replicates 0 and 1."""
    found = {}
    for name in ("siloed_baseline", "pfpp_joined_up"):
        scenario = load_scenario(name).with_overrides({"run.horizon_months": horizon})
        outputs = [run_replicate(scenario, seed, replicate) for replicate in (0, 1)]
        for table in TABLES:
            found[f"{name} {table}"] = digest([getattr(output, table) for output in outputs])
    return found


def sweep_digest(runs: int) -> str:
    """The results of the first ``runs`` points of ``sweeps/levers_lhs.toml``, run in this process as a sweep runs them."""
    spec, base = load_sweep(ROOT / "sweeps" / "levers_lhs.toml")
    results = run_design(
        design_of(spec).head(runs), base, seed=spec.seed, outputs=spec.outputs, by_place=spec.keep_places, executor="serial",
    )
    return digest([results])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=12, help="levers_lhs design points to run (default 12)")
    args = parser.parse_args(argv)
    for label, value in scenario_digests().items():
        print(f"{value}  {label}")
    print(f"{sweep_digest(args.runs)}  levers_lhs, first {args.runs} runs")


if __name__ == "__main__":
    main()
