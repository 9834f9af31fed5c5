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

from pfpp_sim.attribution import Explanation, explain
from pfpp_sim.design import Parameter, ParameterSpace, analyze, sample
from pfpp_sim.errors import DataError, InvariantError, PfppError, ScenarioError
from pfpp_sim.experiment import Comparison, Results, compare, run
from pfpp_sim.folders import load
from pfpp_sim.model import PfppModel
from pfpp_sim.robustness import Robustness, robustness
from pfpp_sim.scenario import Scenario, list_presets, load_scenario
from pfpp_sim.storage import package_version
from pfpp_sim.sweep import Sweep, run_design, run_sweep

__all__ = [
    "Comparison",
    "DataError",
    "Explanation",
    "InvariantError",
    "Parameter",
    "ParameterSpace",
    "PfppError",
    "PfppModel",
    "Results",
    "Robustness",
    "Scenario",
    "ScenarioError",
    "Sweep",
    "__version__",
    "analyze",
    "compare",
    "explain",
    "list_presets",
    "load",
    "load_scenario",
    "robustness",
    "run",
    "run_design",
    "run_sweep",
    "sample",
]

__version__ = package_version()
