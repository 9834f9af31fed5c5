"""Remove each lever's and mechanism parameter's effect in turn and list the tests that fail.

Every lever of :class:`~pfpp_sim.scenario.Levers` and every parameter of
:class:`~pfpp_sim.scenario.Mechanisms` must be pinned by a test: with its effect removed,
some test fails (and so must a bid's gross-up by its chance of success). So must the residents' rules that link the domains (a cold home and
mental health, mental health and work, a young person's job and their household's income,
scarring), the drivers of bills and the poverty line, the fit's trends and the young
people's interventions. Each knockout below is one edit of the code (the lever or
parameter read replaced by what the model would do without it). This script applies them one at a time
to a copy of the package and tests (the working tree is never touched), runs the test
files named for it and prints the tests that fail; tests/README.md ("Mechanisms pinned by
tests") lists them. A knockout whose tests all pass is a mechanism no test pins, and the
script exits with status 1.

Usage::

    python tools/knockouts.py [--markdown] [NAME ...]

NAME selects knockouts by the lever or parameter they remove (default: all).
``--markdown`` prints the table rows of tests/README.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
COUNCIL, DEPARTMENT, MODEL = "pfpp_sim/agents/council.py", "pfpp_sim/agents/department.py", "pfpp_sim/model.py"
DYNAMICS, RESIDENTS, POPULATION = "pfpp_sim/dynamics.py", "pfpp_sim/residents.py", "pfpp_sim/population.py"
COMPILED = "pfpp_sim/compiled.py"
EXOGENOUS, LABOUR, OUTCOMES = "pfpp_sim/exogenous.py", "pfpp_sim/labour_market.py", "pfpp_sim/outcomes.py"
STARTING = "pfpp_sim/starting.py"
C, D, M, P = "tests/test_council.py", "tests/test_department.py", "tests/test_model.py", "tests/test_programmes.py"
L = "tests/test_ledger.py"
RESIDENT_TESTS = ("tests/test_dynamics.py", "tests/test_residents.py", "tests/test_hazards.py", "tests/test_population.py",
                  "tests/test_exogenous.py", "tests/test_labour_market.py", "tests/test_outcomes.py", "tests/test_compiled.py", M)
"""The tests of the residents' rules, and the model's."""
FAST = ["-k", "not lowers and not raises_the_share and not lose_more"]  # test_model without its slow lever-direction tests


class Knockout(NamedTuple):
    name: str  # the lever or mechanism parameter
    effect: str  # what is removed
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


KNOCKOUTS = [
    # ------------------------------------------------------------------------------ levers
    Knockout("pooling", "no money moved into the pool", DEPARTMENT, "pooled = model.scenario.levers.pooling", "pooled = 0.0", (C, D, M)),
    Knockout("pooling", "pooling allowed without the lever", COUNCIL, "model.scenario.levers.pooling > 0\n", "True\n", (C,)),
    Knockout("pooling", "negotiating a pool is not joint work", COUNCIL, "(self.poolable if levers.pooling > 0 else set())", "set()", (C,)),
    Knockout("data_sharing", "targeting precision ignores it", MODEL, "data_sharing=levers.data_sharing,", "data_sharing=0.0,", (M,)),
    Knockout("data_sharing", "teams never see other streams' recipients", MODEL, "sees_others=levers.data_sharing,", "sees_others=0.0,", (M,)),
    Knockout("data_sharing", "it costs nothing", COUNCIL, 'levers.data_sharing * mech["data_sharing_cost"]', "0.0", (C,)),
    Knockout("local_priority_weight", "pooled money ignores local need", COUNCIL,
             "weight = model.scenario.levers.local_priority_weight", "weight = 0.0", (C, M)),
    Knockout("timeline_alignment", "rounds never aligned", DEPARTMENT,
             "aligned=self.model.scenario.levers.timeline_alignment,", "aligned=False,", (C, D, M)),
    Knockout("timeline_alignment", "planning rounds together is not joint work", COUNCIL,
             "(self.funders if levers.timeline_alignment else set())", "set()", (C,)),
    Knockout("carry_over", "no award is ever extended", MODEL, "carry_over=levers.carry_over,", "carry_over=False,", (M, C)),
    Knockout("single_point_of_contact", "teams found no sooner", COUNCIL, "if levers.single_point_of_contact:", "if False:", (C,)),
    Knockout("policy_campus", "teams found no sooner", COUNCIL, "if levers.policy_campus:\n            months", "if False:\n            months", (C,)),
    Knockout("policy_campus", "a campus is not joint work", COUNCIL,
             "if levers.secondments or levers.policy_campus:", "if levers.secondments:", (C,)),
    Knockout("policy_campus", "no faster trust", COUNCIL, "if levers.policy_campus:\n            gain", "if False:\n            gain", (C,)),
    Knockout("secondments", "secondments are not joint work", COUNCIL,
             "if levers.secondments or levers.policy_campus:", "if levers.policy_campus:", (C,)),
    Knockout("secondments", "no faster trust", COUNCIL, "if levers.secondments:\n            gain", "if False:\n            gain", (C,)),
    Knockout("senior_contact", "teams found no sooner", COUNCIL, "if levers.senior_contact:", "if False:", (C,)),
    Knockout("funding_mapping", "a replacement stream's team found no sooner", COUNCIL,
             "if self.model.scenario.levers.funding_mapping:", "if False:", (C,)),
    Knockout("funding_period_months", "streams keep their own periods from month 0", DEPARTMENT,
             "stream.period_months = levers.funding_period_months or programme.funding_period_months",
             "stream.period_months = programme.funding_period_months", (D, M)),
    Knockout("competitive_share", "streams keep their own competitive shares from month 0", DEPARTMENT,
             "stream.competitive_share = programme.competitive_share if levers.competitive_share is None else levers.competitive_share",
             "stream.competitive_share = programme.competitive_share", (D, M)),
    Knockout("stream_churn", "the lever is ignored (the mechanism's rate is used)", DEPARTMENT,
             'churn = model.mech["stream_churn"] if churn is None else churn', 'churn = model.mech["stream_churn"]', (D,)),
    # ---------------------------------------------------------------- mechanism parameters
    Knockout("months_to_find_team", "teams found at once", COUNCIL, 'months = mech["months_to_find_team"]', "months = 0", (C,)),
    Knockout("months_to_find_team_spoc", "ignored", COUNCIL, 'min(months, mech["months_to_find_team_spoc"])', "months", (C,)),
    Knockout("months_to_find_team_campus", "ignored", COUNCIL, 'min(months, mech["months_to_find_team_campus"])', "months", (C,)),
    Knockout("months_to_find_team_senior", "ignored", COUNCIL, 'min(months, mech["months_to_find_team_senior"])', "months", (C,)),
    Knockout("months_to_find_replacement_mapped", "ignored", COUNCIL,
             'months = min(months, int(round(self.model.mech["months_to_find_replacement_mapped"])))', "pass", (C,)),
    Knockout("bid_cost", "bids cost nothing", COUNCIL, 'typical_cost_gbp=mech["bid_cost"]', "typical_cost_gbp=0.0", (C,)),
    Knockout("bid_cost_scheme_value", "fixed at its preset value", COUNCIL,
             'typical_scheme_gbp=mech["bid_cost_scheme_value"]', "typical_scheme_gbp=630000.0", (C,)),
    Knockout("bid_cost_elasticity", "bid cost proportional to the ask", COUNCIL, 'elasticity=mech["bid_cost_elasticity"]', "elasticity=1.0", (C,)),
    Knockout("bid_success_probability", "bids always succeed (asks not grossed up)", DEPARTMENT,
             'p_success = model.mech["bid_success_probability"]', "p_success = 1.0", (D,)),
    Knockout("bid_success_probability", "a bid asks for the council's share, not grossed up by the chance of success", DEPARTMENT,
             "ask_p = int(round(competitive_p / p_success))", "ask_p = competitive_p", (D,)),
    Knockout("reporting_cost", "siloed grants report for free", MODEL,
             'overhead = self.mech["reporting_cost"] * programme.reporting_burden * years', "overhead = 0.0", (M, P)),
    Knockout("reporting_cost", "a pooled budget reports for free", COUNCIL, 'overhead = model.mech["reporting_cost"] * model', "overhead = 0.0 * model", (C,)),
    Knockout("stream_churn", "no stream discontinued", DEPARTMENT,
             'churn = model.mech["stream_churn"] if churn is None else churn', "churn = 0.0 if churn is None else churn", (D, M)),
    Knockout("stream_gap_months", "replacements open at once", DEPARTMENT, 'gap = int(round(model.mech["stream_gap_months"]))', "gap = 0", (D,)),
    Knockout("carry_over_months", "carry-over extends by nothing", MODEL,
             'carry_over_months=int(round(self.mech["carry_over_months"]))', "carry_over_months=0", (M,)),
    Knockout("outreach_hit_rate", "outreach finds only the intended group", MODEL, 'hit_rate=mech["outreach_hit_rate"],', "hit_rate=1.0,", (M,)),
    Knockout("data_match_ceiling", "shared data match perfectly", MODEL, 'match_ceiling=mech["data_match_ceiling"],', "match_ceiling=1.0,", (M,)),
    Knockout("initial_trust", "trust starts at its floor", COUNCIL,
             'self.trust = {d: mech["initial_trust"] for d in DEPARTMENTS}', 'self.trust = {d: mech["trust_floor"] for d in DEPARTMENTS}', (C,)),
    Knockout("trust_gain", "joint work builds no trust", COUNCIL, 'gain = mech["trust_gain"]', "gain = 0.0", (C,)),
    Knockout("trust_threshold", "trust does not gate pooling", COUNCIL, 'self.trust[department] >= model.mech["trust_threshold"]', "True", (C,)),
    Knockout("trust_floor", "trust decays towards 0", COUNCIL, '(mech["trust_floor"] - trust)', "(0.0 - trust)", (C,)),
    Knockout("trust_decay", "trust never decays", COUNCIL, 'mech["trust_decay"] * (mech["trust_floor"] - trust)', "0.0", (C,)),
    Knockout("secondment_trust_multiplier", "secondments build trust no faster", COUNCIL,
             'gain *= mech["secondment_trust_multiplier"]', "gain *= 1.0", (C,)),
    Knockout("campus_trust_multiplier", "a campus builds trust no faster", COUNCIL, 'gain *= mech["campus_trust_multiplier"]', "gain *= 1.0", (C,)),
    Knockout("staff_retention_months", "no team kept on between awards", COUNCIL,
             'retention = model.mech["staff_retention_months"]', "retention = 0", (C,)),
    Knockout("recruitment_cost", "recruiting costs nothing", COUNCIL,
             'model.add_flow("recruitment_cost_gbp", self.place, model.mech["recruitment_cost"])',
             'model.add_flow("recruitment_cost_gbp", self.place, 0.0)', (C,)),
    Knockout("team_headroom", "teams deliver no more than the plan", MODEL, 'headroom=self.mech["team_headroom"]', "headroom=1.0", (C, L)),
    Knockout("deadline_rush_months", "no rush to spend before a deadline", COUNCIL, "rush = deadline[a] - month <= rush_months", "rush = False", (C, L)),
    Knockout("deadline_rush_months", "the rush lasts one month whatever its length", MODEL,
             'rush_months=self.mech["deadline_rush_months"]', "rush_months=1.0", (C,)),
    Knockout("aligned_award_lag_months", "aligned rounds award on the first month whatever the lag", DEPARTMENT,
             'aligned_lag=round(self.model.mech["aligned_award_lag_months"])', "aligned_lag=0", (D,)),
    Knockout("pooled_reporting_burden", "a pool reports as one grant whatever the burden", COUNCIL,
             'model.mech["reporting_cost"] * model.mech["pooled_reporting_burden"] * years', 'model.mech["reporting_cost"] * years', (C,)),
    Knockout("pooling_negotiation_months", "pools need no negotiation", COUNCIL, 'month >= model.mech["pooling_negotiation_months"]', "True", (C,)),
    Knockout("pooled_governance_cost", "pools are governed for free", COUNCIL,
             'model.add_flow("governance_cost_gbp", self.place, model.mech["pooled_governance_cost"])',
             'model.add_flow("governance_cost_gbp", self.place, 0.0)', (C,)),
    Knockout("pooled_targeting_penalty", "pooled teams target as well as siloed ones", MODEL,
             'pooled_penalty=mech["pooled_targeting_penalty"],', "pooled_penalty=1.0,", (M,)),
    Knockout("data_sharing_cost", "data sharing costs nothing", COUNCIL, 'levers.data_sharing * mech["data_sharing_cost"]', "levers.data_sharing * 0.0", (C,)),
    *(
        Knockout(cost, "costs nothing", COUNCIL, f'"{cost}": levers.{lever},', f'"{cost}": False,', (C,))
        for cost, lever in [
            ("contact_cost", "single_point_of_contact"),
            ("senior_contact_cost", "senior_contact"),
            ("funding_mapping_cost", "funding_mapping"),
            ("secondment_cost", "secondments"),
            ("campus_cost", "policy_campus"),
        ]
    ),
    Knockout("run_in_months", "no years before the run", MODEL, 'self.run_in_months = int(round(self.mech["run_in_months"]))', "self.run_in_months = 0", (M,)),
    Knockout("run_in_months", "the years before deliver no support to residents", MODEL,
             "self.deliver_orders(orders.take(reach))\n", "\n", (M,)),
    Knockout("run_in_months", "incomes are not scaled for the support running at the start", MODEL,
             "scale = self.residents.income_scale(fuel_poor)", "scale = np.ones(places.n)", (M,)),
    Knockout("run_in_months", "NEET entry is solved as if no prevention ran at the start", RESIDENTS,
             "entry_factor=self._with_prevention(0, slice(0, y.n), np.ones(y.n)),", "entry_factor=None,", (M,)),
    Knockout("run_in_months", "NEET entry is solved as if no employment support ran at the start", RESIDENTS,
             "y.months_neet, y.mh_disorder, y.ips_until > 0, y.age_months,", "y.months_neet, y.mh_disorder, y.ips_until < 0, y.age_months,", (M,)),
    # --------------------------------------------- the residents' rules: links between domains
    Knockout("cold_home_odds_ratio", "a cold home does not raise the odds of a mental-health onset", RESIDENTS,
             "for ratio in (1.0, self.cold_home_odds_ratio))", "for ratio in (1.0, 1.0))", RESIDENT_TESTS),
    Knockout("mh_job_finding_multiplier", "a mental disorder does not slow leaving NEET", RESIDENTS,
             '"mh_multiplier": yw.mh_job_finding_multiplier.value,', '"mh_multiplier": 1.0,', RESIDENT_TESTS),
    Knockout("youth_earnings", "a young person's job adds nothing to their household's income", RESIDENTS,
             "self.world.young_people.youth_earnings.value * index,", "0.0 * index,", RESIDENT_TESTS),
    Knockout("neet_scarring", "long NEET spells do not scar", RESIDENTS,
             '"scarring": yw.neet_scarring.value,', '"scarring": 0.0,', RESIDENT_TESTS),
    Knockout("neet_home_income_gradient", "NEET young people live in homes like everyone else's", POPULATION,
             "neet_gradient=yw.neet_home_income_gradient.value,", "neet_gradient=0.0,", RESIDENT_TESTS),
    Knockout("mh_recovery_hazard", "nobody recovers from a mental disorder", RESIDENTS,
             "recovery = yw.mh_recovery_hazard.value", "recovery = 0.0", RESIDENT_TESTS),
    Knockout("income_shock_sd", "incomes take no shocks", RESIDENTS,
             "as_dev(hw.income_shock_sd.value)", "as_dev(0.0)",
             RESIDENT_TESTS),
    Knockout("price_pass_through", "bills follow the price cap whatever the share passed through", EXOGENOUS,
             "price = start_price + scenario.world.households.price_pass_through.value * (cap_at(dates) - start_price)",
             "price = start_price + 1.0 * (cap_at(dates) - start_price)", RESIDENT_TESTS),
    Knockout("data_year_prices", "the start is solved at its first month's prices, not its data year's", STARTING,
             "if scenario.run.start_year > data_year:", "if True:", (*RESIDENT_TESTS, "tests/test_starting.py")),
    Knockout("poverty_line_share", "the poverty line is 60% of the median whatever the share", EXOGENOUS,
             "poverty_line_gbp=hw.poverty_line_share.value * hw.median_income.value * index,",
             "poverty_line_gbp=0.6 * hw.median_income.value * index,", RESIDENT_TESTS),
    Knockout("unemployment_elasticity", "local unemployment does not scale who seeks work", LABOUR,
             "elasticity = scenario.world.young_people.unemployment_elasticity.value", "elasticity = 0.0", RESIDENT_TESTS),
    Knockout("neet_trend", "the fit's NEET 16-17 trends are ignored", RESIDENTS,
             "drift = np.exp(places.neet_trend * years)",
             "drift = np.exp(0.0 * places.neet_trend * years)", RESIDENT_TESTS),
    Knockout("september_entry", "no one starts Year 12 NEET", RESIDENTS,
             "int(self.since_september[t]), bool(self.since_september[t + 1] == 0),", "int(self.since_september[t]), False,",
             RESIDENT_TESTS),
    Knockout("careers_guidance", "guidance and outreach do not lower starting Year 12 NEET", COMPILED,
             "rate = _entry_with_prevention(year_12_neet[p], careers_until[j] > t, asb_until[j] > t, careers_effect, asb_effect)",
             "rate = year_12_neet[p]", RESIDENT_TESTS),
    Knockout("year_11_in_school", "Year 11 enters NEET as Years 12-13 do", COMPILED,
             "hazard = 0.0 if group == 0 else entry_base[p, group - 1]", "hazard = entry_base[p, max(group - 1, 0)]",
             RESIDENT_TESTS),
    Knockout("academic_age", "NEET 16-17 counts age on the day", COMPILED,
             "4 * int(group == YEARS_12_13)", "4 * int(age < AGE_18)", RESIDENT_TESTS),
    Knockout("careers_guidance", "careers guidance does not lower NEET entry", COMPILED,
             "(1.0 - careers_effect if careers else 1.0)", "1.0", RESIDENT_TESTS),
    Knockout("asb_outreach", "outreach does not lower NEET entry", COMPILED,
             "(1.0 - asb_effect if asb else 1.0)", "1.0", RESIDENT_TESTS),
    Knockout("employment_support", "employment support does not speed moves into work", DYNAMICS,
             "np.array([[1.0, ips_risk_ratio_other], [1.0, ips_risk_ratio_disorder]])", "np.ones((2, 2))", RESIDENT_TESTS),
]


def copy_of_repository(into: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", ".pytest_cache")
    for folder in ("pfpp_sim", "tests"):
        shutil.copytree(ROOT / folder, into / folder, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", into / "pyproject.toml")
    return into


def failing_tests(copy: Path, knockout: Knockout) -> list[str]:
    """Apply ``knockout`` to the copy, run its tests, restore the file; the tests that failed."""
    path = copy / knockout.path
    source = path.read_text()
    if source.count(knockout.old) != 1:
        sys.exit(f"error: {knockout.name}: the code to remove ({knockout.old!r}) is not in {knockout.path} exactly once; update tools/knockouts.py")
    path.write_text(source.replace(knockout.old, knockout.new))
    try:
        args = [*knockout.tests, *(FAST if M in knockout.tests else [])]
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-rf", "-p", "no:cacheprovider", "-p", "no:xdist", "--hypothesis-seed", "0", *args],
            cwd=copy, env={**os.environ, "PYTHONPATH": str(copy)}, capture_output=True, text=True,
        )
    finally:
        path.write_text(source)
    return [line.split()[1] for line in done.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="levers or mechanism parameters (default: all)")
    parser.add_argument("--markdown", action="store_true", help="print the table rows of tests/README.md")
    args = parser.parse_args(argv)
    chosen = [k for k in KNOCKOUTS if not args.names or k.name in args.names]
    unpinned = []
    with tempfile.TemporaryDirectory(prefix="pfpp-knockouts-") as tmp:
        copy = copy_of_repository(Path(tmp))
        for knockout in chosen:
            failed = failing_tests(copy, knockout)
            if not failed:
                unpinned.append(knockout)
            if args.markdown:
                tests = ", ".join(f"`{name.removeprefix('tests/')}`" for name in failed[:3]) or "**none**"
                tests += f" and {len(failed) - 3} more" if len(failed) > 3 else ""
                print(f"| `{knockout.name}` | {knockout.effect} | {tests} |", flush=True)
            else:
                print(f"{knockout.name}: {knockout.effect}: {len(failed)} failed" + "".join(f"\n    {name}" for name in failed), flush=True)
    if unpinned:
        sys.exit("not pinned by any test: " + "; ".join(f"{k.name} ({k.effect})" for k in unpinned))


if __name__ == "__main__":
    main()
