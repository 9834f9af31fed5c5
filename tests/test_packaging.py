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


def test_importing_the_package_imports_a_name_of_its_api_only_when_used():
    script = (
        "import sys, pfpp_sim\n"
        "assert not any(m.startswith('pfpp_sim.') for m in sys.modules), sorted(sys.modules)\n"
        "pfpp_sim.run, pfpp_sim.run_sweep\n"
        "assert 'matplotlib' not in sys.modules  # running and sweeping draw no chart\n"
        "import pfpp_sim.robustness\n"  # the submodule loaded first does not hide the function of its name
        "from pfpp_sim.robustness import robustness\n"
        "assert pfpp_sim.robustness is robustness and callable(pfpp_sim.Robustness)\n"
        "assert dir(pfpp_sim) == sorted(pfpp_sim.__all__)\n"
        "print(pfpp_sim.__version__)\n"
    )
    assert _python(script).strip()


def test_the_command_line_imports_matplotlib_only_to_draw_a_chart():
    script = (
        "import sys\n"
        "import pfpp_sim.cli\n"
        "assert 'matplotlib' not in sys.modules, 'the command line imported matplotlib'\n"
        "from pfpp_sim import sections, sensitivity\n"
        "assert 'matplotlib' not in sys.modules, 'report sections imported matplotlib before drawing'\n"
    )
    _python(script)


def _python(script: str) -> str:
    """What ``script`` prints, run by this Python in a new process from the repository's root; it must succeed."""
    ran = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    return ran.stdout


def test_every_name_of_the_api_is_the_object_its_module_defines():
    import importlib

    import pfpp_sim

    for name, module in pfpp_sim._API.items():
        assert getattr(pfpp_sim, name) is getattr(importlib.import_module(module), name), name
    try:
        pfpp_sim.no_such_name  # noqa: B018
    except AttributeError as err:
        assert "no_such_name" in str(err)
    else:
        raise AssertionError("an unknown name must raise AttributeError")
