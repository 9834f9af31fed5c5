"""pfpp_sim: joined-up versus siloed place-based funding in England, as an agent-based model.

Python API (the ``pfpp`` command line is a thin layer over it)::

    import pfpp_sim
    base = pfpp_sim.load_scenario("siloed_baseline")
    result = pfpp_sim.compare(base, "pfpp_joined_up", seed=1, replicates=20)
    result.comparison          # paired differences with 95% CIs
    result.save("results/demo")
    why = pfpp_sim.explain(base, "pfpp_joined_up", seed=1, replicates=10)
    why.attribution            # each lever's Shapley contribution, with 95% CIs
    why.save("results/why")

    # would the answer hold across the assumptions' ranges?
    hold = pfpp_sim.robustness(base, "pfpp_joined_up", "results/hold", samples=256)
    hold.summary               # per outcome: share of worlds where the sign holds, spread, noise

    from pfpp_sim.report import write_report
    write_report("results/demo")   # report.html and figures/*.png

    again = pfpp_sim.load("results/demo")   # any results folder, as the object that wrote it

    # a design, after SALib: sample a space, run the design, analyze what it gave
    space = pfpp_sim.ParameterSpace({"levers.carry_over": pfpp_sim.Parameter(levels=[False, True]),
                                     "levers.data_sharing": pfpp_sim.Parameter(low=0.0, high=1.0)})
    design = pfpp_sim.sample(space, 32, seed=1, method="lhs")
    results = pfpp_sim.run_design(design, base, replicates=2)     # one row per run
    indices = pfpp_sim.analyze(space, results, method="lhs", seed=1)
"""

import importlib
import sys
import types

# Each name of the Python API and the module that defines it. They are imported on
# first use (PEP 562), so that a command, a worker process or a test imports only the
# modules it needs: importing every module (the analyses' SciPy, the charts' Matplotlib,
# the app) takes seconds.
_API = {
    "Comparison": "pfpp_sim.experiment",
    "DataError": "pfpp_sim.errors",
    "Explanation": "pfpp_sim.attribution",
    "InvariantError": "pfpp_sim.errors",
    "Parameter": "pfpp_sim.design",
    "ParameterSpace": "pfpp_sim.design",
    "PfppError": "pfpp_sim.errors",
    "PfppModel": "pfpp_sim.model",
    "Results": "pfpp_sim.experiment",
    "Robustness": "pfpp_sim.robustness",
    "Scenario": "pfpp_sim.scenario",
    "ScenarioError": "pfpp_sim.errors",
    "Sweep": "pfpp_sim.sweep",
    "analyze": "pfpp_sim.design",
    "compare": "pfpp_sim.experiment",
    "explain": "pfpp_sim.attribution",
    "list_presets": "pfpp_sim.scenario",
    "load": "pfpp_sim.folders",
    "load_scenario": "pfpp_sim.scenario",
    "robustness": "pfpp_sim.robustness",
    "run": "pfpp_sim.experiment",
    "run_design": "pfpp_sim.sweep",
    "run_sweep": "pfpp_sim.sweep",
    "sample": "pfpp_sim.design",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    """Import a name of the Python API from its module on first use."""
    if name == "__version__":
        from pfpp_sim.storage import package_version

        return package_version()
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'pfpp_sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


class _Package(types.ModuleType):
    """This package: a submodule named like a function of the API (``robustness``) does not hide it once loaded."""

    def __setattr__(self, name: str, value) -> None:
        if name in _API and isinstance(value, types.ModuleType):
            return  # the submodule stays in sys.modules; the name is the function's
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
