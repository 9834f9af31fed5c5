"""A wheel built from the repository holds the presets, the examples and the shipped fits, and runs every preset."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_built_wheel_installs_the_presets_examples_and_fits_and_runs_every_preset(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("pfpp_sim-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    presets = sorted(p.name for p in (ROOT / "scenarios").glob("*.toml"))
    assert {f"pfpp_sim/scenarios/{name}" for name in presets} <= names
    assert {f"pfpp_sim/scenarios/examples/{p.name}" for p in (ROOT / "scenarios" / "examples").glob("*.toml")} <= names
    assert {f"pfpp_sim/fits/{p.name}" for p in (ROOT / "calibration" / "fitted").glob("*.toml")} <= names
    assert not any(name.startswith(("scenarios/", "calibration/", "tests/")) for name in names)

    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)  # what pip install puts in site-packages
    script = (
        "import pfpp_sim, pfpp_sim.scenario as s\n"
        f"assert pfpp_sim.__file__.startswith({str(target)!r}), pfpp_sim.__file__\n"
        "for name in s.list_presets():\n"
        "    scenario = s.load_scenario(name).with_overrides({'run.places': ['E07000062'], 'run.horizon_months': 2})\n"
        "    pfpp_sim.run(scenario, seed=1, executor='serial')\n"
        "print(' '.join(s.list_presets()))\n"
    )
    ran = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.split() == [p.removesuffix(".toml") for p in presets]
