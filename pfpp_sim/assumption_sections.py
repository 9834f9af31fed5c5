"""The report's sections on what the scenarios assume: the assumptions that differ, the analyst's own sources, the appendix.

An assumption is a value citing the package's assumptions registry (``assumption:NAME``,
:data:`~pfpp_sim.evidence.ASSUMPTIONS`) or one of the analyst's own sources declared in
the scenario file (``user:KEY``, :class:`~pfpp_sim.scenario.UserSource`). The scenarios
are read back from the parameters in ``manifest.json``.
"""

from __future__ import annotations

from pfpp_sim.evidence import ASSUMPTIONS, Sourced, assumed_parameters, calibrated_parameters, is_user_source
from pfpp_sim.scenario import Scenario
from pfpp_sim.scenario_sections import _scenarios
from pfpp_sim.sections import Section, _table

__all__ = ["assumptions_appendix", "assumptions_section"]


def _assumed(loaded: dict[str, Scenario]) -> dict[str, dict[str, Sourced]]:
    """Each scenario's assumed parameters by key path."""
    return {s: dict(assumed_parameters(sc)) for s, sc in loaded.items()}


def _assumption_text(source: str, loaded: dict[str, Scenario]) -> str:
    """What an assumption says: its registry entry, or the analyst's own source with its reference."""
    key = source.split(":", 1)[1]
    if not is_user_source(source):
        return f"{key}: {ASSUMPTIONS[key].description}"
    own = next(sc.user_sources[key] for sc in loaded.values() if key in sc.user_sources)
    return f"{key} (the analyst's own): {own.description} Reference: {own.reference}"


def _assumption_table(assumed: dict[str, dict[str, Sourced]], paths: list[str], loaded: dict[str, Scenario]) -> str:
    """Parameter, unit, each scenario's value, plausible range and what is assumed, for each path."""
    rows = []
    for path in paths:
        values = [a[path] for a in assumed.values() if path in a]
        ranges = "; ".join(dict.fromkeys(f"{v.low:g} to {v.high:g}" for v in values))
        shown = [f"{a[path].value:g}" if path in a else "-" for a in assumed.values()]
        said = "; ".join(dict.fromkeys(_assumption_text(v.source, loaded) for v in values))
        rows.append([path, values[0].unit, *shown, ranges, said])
    return _table(["Parameter", "Unit", *assumed, "Plausible range", "Assumption"], rows, numeric_from=99)


def _user_sources_table(loaded: dict[str, Scenario], assumed: dict[str, dict[str, Sourced]]) -> str:
    """The analyst's own sources each scenario declares, with the values citing them; empty if none."""
    rows = [
        [s, key, own.description, own.reference, own.range_reason or "-",
         ", ".join(p for p, v in assumed[s].items() if v.source == f"user:{key}") or "nothing (declared, not cited)"]
        for s, sc in loaded.items()
        for key, own in sc.user_sources.items()
    ]
    if not rows:
        return ""
    return (
        "<p>The analyst's own sources, declared in the scenario files (<code>[user_sources]</code>) rather than the "
        "package's assumptions registry or EVIDENCE.md, are treated as assumptions: each value citing one carries a "
        "plausible range, which <code>pfpp robustness</code> samples.</p>"
        + _table(["Scenario", "Key", "Description", "Reference", "Why this range", "Cited by"], rows, numeric_from=99)
    )


def assumptions_section(manifest: dict, scenarios: list[str]) -> Section:
    """The assumptions that differ between the scenarios first, then the calibration; the full table is in the appendix.

    Parameters
    ----------
    manifest : dict
    scenarios : list of str
        One scenario, or the base and the alternative.
    """
    loaded = _scenarios(manifest, scenarios)
    assumed = _assumed(loaded)
    paths = list(dict.fromkeys(p for a in assumed.values() for p in a))
    own = [p for p in paths if any(p in a and is_user_source(a[p].source) for a in assumed.values())]
    body = ""
    if len(scenarios) == 2:
        base, alternative = (assumed[s] for s in scenarios)
        differ = [p for p in paths if p not in base or p not in alternative or base[p] != alternative[p]]
        if differ:
            body += (
                f"<p>{len(differ)} of the {len(paths)} assumed parameters {'differs' if len(differ) == 1 else 'differ'} "
                "between the scenarios:</p>"
                + _assumption_table(assumed, differ, loaded)
            )
        else:
            body += (
                f"<p>No assumption differs between the scenarios: all {len(paths)} assumed parameters are the same in both, "
                "so the difference comes from what <a href='#what-differs'>What differs</a> lists.</p>"
            )
    of_theirs = f", {len(own)} of them on the analyst's own sources" if own else ""
    body += (
        f"<p>{len(paths)} parameters rest on an assumption rather than evidence{of_theirs}; every other real-world quantity "
        "cites an EVIDENCE.md key or a fitted calibration. <a href='#appendix-every-assumption'>Appendix: every assumption</a> "
        "lists them all with their values and registry entries.</p>"
    )
    body += _user_sources_table(loaded, assumed)
    calibrated = [
        [s, sc.calibration.name, sc.calibration.fitted_on, str(len(sc.calibration.places)),
         "; ".join(f"{path} = {value.value:.3g}" for path, value in calibrated_parameters(sc)) or "-"]
        for s, sc in loaded.items() if sc.calibration
    ]
    if calibrated:
        body += (
            "<p>Calibrated: per-place income and NEET trends, and the global values listed, come from a fit to official "
            "statistics (<code>pfpp calibrate</code>; see its report for errors and standard errors).</p>"
            + _table(["Scenario", "Fit", "Fitted on", "Places with trends", "Global values"], calibrated, numeric_from=99)
        )
    return Section("Assumptions", body)


def assumptions_appendix(manifest: dict, scenarios: list[str]) -> Section:
    """Every assumed parameter of the scenarios, with each one's value and its registry entry or the analyst's own source.

    Then the registry's other entries, which no parameter of the scenarios sets: the rules
    of the model and the settings that are assumptions too, which ``pfpp robustness`` does
    not sample.
    """
    loaded = _scenarios(manifest, scenarios)
    assumed = _assumed(loaded)
    paths = list(dict.fromkeys(p for a in assumed.values() for p in a))
    cited = {v.source.split(":", 1)[1] for a in assumed.values() for v in a.values() if not is_user_source(v.source)}
    rules = [[name, entry.description, entry.range_reason] for name, entry in ASSUMPTIONS.items() if name not in cited]
    body = (
        f"<p>All {len(paths)} parameters that rest on an assumption, with each scenario's value, the plausible range "
        "<code>pfpp robustness</code> explores, and the registry entry (or the analyst's own source) that says what is "
        "assumed and why.</p>"
        + _assumption_table(assumed, paths, loaded)
        + f"<p>The registry's {len(rules)} other entries set no parameter of these scenarios: rules of the model and "
        "settings, which <code>pfpp robustness</code> does not sample, and values these scenarios take from a fit or leave "
        "unset; each says why another choice is defensible.</p>"
        + _table(["Registry entry", "What is assumed", "Why, and what another choice would move"], rules, numeric_from=99)
    )
    return Section("Appendix: every assumption", body)
