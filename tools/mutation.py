"""Mutation score of each module, one module at a time (run by tools/mutation.sh).

mutmut changes a module one small edit at a time ("mutants") and runs the tests that
reach the edited function; a mutant is killed when one of them fails. Run over the whole
package, every mutant of a function the model calls at construction runs about a hundred
tests, and a surviving mutant of council.py costs as much as the whole selection. Here
each module is mutated alone, in its own copy of the repository under
``mutants/modules/<module>/``, against the tests listed for it in
``[tool.pfpp.mutation_tests]`` in pyproject.toml (the tests of that module, and the
model-level tests that pin what it does). A score is therefore a lower bound: a mutant
that only another module's tests kill counts as surviving.

Score = killed / (mutants - skipped), where killed counts mutmut's "killed" and
"timeout" (a mutant that makes the tests run far longer than usual is caught too); "no
tests" (a mutant no selected test reaches) and "suspicious" count as not killed.

Each module's result is written to ``docs/mutation.json`` (replacing that module's earlier
result, keeping the others'); the table in ``docs/mutation.md`` and the score table between
the ``mutation-scores`` markers of ``tests/README.md`` are written again from it.

Usage::

    python tools/mutation.py [--again] [--jobs N] [MODULE ...]

MODULE is a path such as ``pfpp_sim/agents/council.py`` (default: every module in
``[tool.mutmut] only_mutate``). ``--again`` tests only the mutants that survived the last
run of each module again, with the current tests now listed for it (after adding tests
or test files); the mutants already killed stay killed. ``--only GLOB`` (with
``--again``) tests again only the survivors whose names match (e.g. ``'*open_award*'``);
the others keep their result.
``--resume`` finishes an interrupted run of each module in its copy: the mutants already
tested keep their result, the rest are tested with the current tests now listed for the module.

mutmut leaves decorated functions alone (``@property``, ``@cache``, pydantic's validators,
context managers), so in the copy each is written undecorated with the decorators applied
after it (:func:`undecorate`), which Python treats the same. A cache of the mutated module
would then answer from what the first test computed, before a mutant is switched on, so the
copy's ``conftest.py`` empties the module's caches before each test (:data:`CACHE_CONFTEST`).
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "mutants" / "modules"
RESULTS_JSON = ROOT / "docs" / "mutation.json"
RESULTS_MD = ROOT / "docs" / "mutation.md"
TESTS_README = ROOT / "tests" / "README.md"
MARKERS = ("<!-- mutation-scores:start -->", "<!-- mutation-scores:end -->")
CAUGHT = {"killed", "timeout"}
INTERPRETED = {"pfpp_sim/compiled.py", "pfpp_sim/walks.py", "pfpp_sim/listing.py", "pfpp_sim/agents/council.py"}
"""Modules whose mutants run as plain Python (NUMBA_DISABLE_JIT=1): numba cannot compile mutmut's trampolines."""
MUTMUT_SECTION = re.compile(r"^\[tool\.mutmut\]\n(?:(?!^\[).*\n?)*", re.MULTILINE)
"""The ``[tool.mutmut]`` table of a pyproject.toml, up to the next table."""


def config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]


def slug(module: str) -> str:
    return module.removeprefix("pfpp_sim/").removesuffix(".py").replace("/", ".")


def mutmut_section(base: dict, module: str, tests: list[str]) -> str:
    """The [tool.mutmut] table of a one-module copy: mutate ``module`` only, run ``tests``."""
    settings = {
        **base,
        "only_mutate": [module],
        "pytest_add_cli_args_test_selection": tests + base_filter(base),
        "also_copy": [*base.get("also_copy", []), "conftest.py"],  # mutmut runs the tests in its own copy, mutants/
    }
    lines = ["[tool.mutmut]"] + [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def base_filter(base: dict) -> list[str]:
    """The options (such as ``-k``) of the package-wide test selection, without its files."""
    selection, options, i = base.get("pytest_add_cli_args_test_selection", []), [], 0
    while i < len(selection):
        if selection[i].startswith("-"):
            options += selection[i : i + 2]
            i += 2
        else:
            i += 1
    return options


KEPT_DECORATORS = {"staticmethod", "classmethod"}
"""Decorators under which mutmut still mutates a function (:func:`undecorate` leaves them)."""


def undecorate(source: str) -> str:
    """``source`` with each decorated function written plainly, its decorators applied after it.

    ``@d1 @d2 def f(...)`` becomes ``def f(...)`` followed by ``f = d1(d2(f))`` at the same
    indentation, which binds the same object: mutmut, which skips decorated functions, then
    mutates ``f``. Left as they are: functions decorated only with ``staticmethod`` or
    ``classmethod`` (mutmut handles them), and those whose decorators name the function
    itself (``@x.setter``), which must be evaluated before ``def`` binds the name.

    Parameters
    ----------
    source : str
        A module's code.

    Returns
    -------
    str
        The module's code, undecorated.
    """
    lines = source.splitlines(keepends=True)
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not node.decorator_list:
            continue
        texts = [ast.get_source_segment(source, d) for d in node.decorator_list]
        if set(texts) <= KEPT_DECORATORS:
            continue
        if any(isinstance(n, ast.Name) and n.id == node.name for d in node.decorator_list for n in ast.walk(d)):
            continue
        found.append((node, texts))
    for node, texts in sorted(found, key=lambda item: -item[0].lineno):  # from the end, so earlier line numbers hold
        first = min(d.lineno for d in node.decorator_list) - 1
        indent = lines[node.lineno - 1][: node.col_offset]
        applied = node.name
        for text in reversed(texts):
            applied = f"({text})({applied})"
        lines.insert(node.end_lineno, f"{indent}{node.name} = {applied}\n")
        del lines[first : node.lineno - 1]
    return "".join(lines)


CACHE_CONFTEST = '''"""Written by tools/mutation.py: the mutated module's caches emptied before each test."""

import importlib

import pytest


@pytest.fixture(autouse=True)
def _empty_mutated_caches():
    module = importlib.import_module({module!r})
    for value in list(vars(module).values()):
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()
'''
"""The ``conftest.py`` at the top of a module's copy (``{module}``: its dotted name)."""


def prepare(module: str, tests: list[str], base: dict) -> Path:
    """A fresh copy of the package, tests, scenarios and pyproject.toml set to mutate ``module`` only."""
    work = WORK / slug(module)
    shutil.rmtree(work, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", ".pytest_cache")
    shutil.copytree(ROOT / "pfpp_sim", work / "pfpp_sim", ignore=ignore)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=ignore)
    shutil.copytree(ROOT / "scenarios", work / "scenarios", ignore=ignore)  # tests read the repository's folder of them
    # The presets and fits install inside the package (pyproject's package-dir); an editable
    # install maps them to the tree it was made from, so the copy gets its own, in place.
    shutil.copytree(ROOT / "scenarios", work / "pfpp_sim" / "scenarios", ignore=ignore)
    shutil.copytree(ROOT / "calibration" / "fitted", work / "pfpp_sim" / "fits", ignore=ignore)
    mutated = work / module
    mutated.write_text(undecorate(mutated.read_text()))
    dotted = module.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    (work / "conftest.py").write_text(CACHE_CONFTEST.format(module=dotted))
    pyproject = (ROOT / "pyproject.toml").read_text()
    (work / "pyproject.toml").write_text(MUTMUT_SECTION.sub(mutmut_section(base, module, tests), pyproject))
    (work / "source-commit").write_text(commit_of("pfpp_sim"))
    (work / "tests-commit").write_text(commit_of("tests"))
    return work


def commit_of(path: str) -> str:
    """The commit of the repository, with ``+changes`` if ``path`` has uncommitted edits (tests/README.md, which runs rewrite, aside)."""
    return git("rev-parse", "--short", "HEAD") + ("+changes" if git("status", "--porcelain", "--", path, ":!tests/README.md") else "")


def refresh_tests(work: Path) -> None:
    """Copy the current tests over those of an earlier run (for ``--again`` and ``--resume``).

    mutmut measures which tests reach each function only when that function's code changes,
    so its record (``mutmut-stats.json``) is removed: new tests, or a fixture now built for
    each test, reach functions the old record does not credit them with.
    """
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", ".pytest_cache")
    shutil.copytree(ROOT / "tests", work / "tests", ignore=ignore, dirs_exist_ok=True)
    (work / "tests-commit").write_text(commit_of("tests"))
    (work / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)


def statuses(work: Path) -> dict[str, str]:
    out = subprocess.run(["mutmut", "results", "--all", "true"], cwd=work, capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep:
            found[name] = status
    return found


def select_tests(work: Path, module: str, tests: list[str], base: dict) -> None:
    """Point an earlier copy at the tests now listed for ``module``; stale coverage is measured again."""
    pyproject = (work / "pyproject.toml").read_text()
    updated = MUTMUT_SECTION.sub(mutmut_section(base, module, tests), pyproject)
    if updated != pyproject:
        (work / "pyproject.toml").write_text(updated)
        (work / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)


def run_module(module: str, tests: list[str], base: dict, *, jobs: int, again: bool, resume: bool, only: list[str]) -> dict:
    work = WORK / slug(module)
    names: list[str] = []
    if resume:
        if not (work / "mutants").is_dir():
            sys.exit(f"error: {module}: no interrupted run in {work} to finish")
        select_tests(work, module, tests, base)
        refresh_tests(work)
    elif again:
        if not (work / "mutants").is_dir():
            sys.exit(f"error: {module}: no earlier run in {work} to test again")
        select_tests(work, module, tests, base)  # a test file added to the module's list since counts too
        refresh_tests(work)
        names = [name for name, status in statuses(work).items() if status not in CAUGHT | {"skipped"}]
        names = [name for name in names if not only or any(fnmatch.fnmatchcase(name, glob) for glob in only)]
    else:
        work = prepare(module, tests, base)
    start = time.monotonic()
    if not again or names:
        log = work / "mutmut.log"
        with log.open("a") as out:
            env = {**os.environ, "NUMBA_DISABLE_JIT": "1"} if module in INTERPRETED else None
            done = subprocess.run(["mutmut", "run", "--max-children", str(jobs), *names], cwd=work, stdout=out, stderr=subprocess.STDOUT, env=env)
        if done.returncode:
            sys.exit(f"error: mutmut run failed for {module} (exit {done.returncode}); see {log}")
    seconds = time.monotonic() - start
    runs = 1
    if again or resume:  # the time and runs of the fresh run and earlier re-runs count too
        earlier = json.loads(RESULTS_JSON.read_text()).get(module, {}) if RESULTS_JSON.exists() else {}
        seconds += earlier.get("seconds", 0)
        runs += earlier.get("runs", 1)
    found = statuses(work)
    counts = Counter(found.values())
    total, skipped = len(found), counts["skipped"]
    caught = sum(counts[s] for s in CAUGHT)
    return {
        "module": module,
        "tests": tests + base_filter(base),
        "mutants": total,
        "skipped": skipped,
        "killed": counts["killed"],
        "timeout": counts["timeout"],
        "survived": counts["survived"],
        "no_tests": counts["no tests"],
        "other": total - skipped - caught - counts["survived"] - counts["no tests"],
        "score": caught / (total - skipped) if total > skipped else None,
        "seconds": round(seconds),
        "runs": runs,
        "jobs": jobs,
        # the code as it was copied for the run, and the tests as they were last copied in
        "commit": (work / "source-commit").read_text() if (work / "source-commit").exists() else commit_of("pfpp_sim"),
        "tests_commit": (work / "tests-commit").read_text() if (work / "tests-commit").exists() else commit_of("tests"),
        "date": dt.date.today().isoformat(),
        "mutmut": subprocess.run(["mutmut", "--version"], capture_output=True, text=True).stdout.strip().rpartition(" ")[2],
        "not_killed": sorted(name for name, status in found.items() if status not in CAUGHT | {"skipped"}),
    }


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def write_results(records: list[dict]) -> dict:
    """Merge ``records`` into docs/mutation.json (one record a module) and rewrite docs/mutation.md."""
    stored = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    stored.update({r["module"]: r for r in records})
    stored = dict(sorted(stored.items()))
    tmp = RESULTS_JSON.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(stored, indent=1) + "\n")
    tmp.replace(RESULTS_JSON)
    tmp = RESULTS_MD.with_suffix(".md.tmp")
    tmp.write_text(markdown(stored))
    tmp.replace(RESULTS_MD)
    readme = TESTS_README.read_text()
    start, end = readme.find(MARKERS[0]), readme.find(MARKERS[1])
    if 0 <= start < end:
        table = "\n".join([MARKERS[0], *score_table(stored), MARKERS[1]])
        tmp = TESTS_README.with_suffix(".md.tmp")
        tmp.write_text(readme[:start] + table + readme[end + len(MARKERS[1]) :])
        tmp.replace(TESTS_README)
    return stored


def score_table(stored: dict) -> list[str]:
    """The per-module scores as a Markdown table (for tests/README.md)."""
    lines = ["| Module | Mutants | Killed | Survived | Score | Measured at |", "|---|---|---|---|---|---|"]
    for r in stored.values():
        caught = r["killed"] + r["timeout"]
        score = "n/a" if r["score"] is None else f"{100 * r['score']:.1f}%"
        tests = r.get("tests_commit", r["commit"])
        at = r["commit"] if tests == r["commit"] else f"code {r['commit']}, tests {tests}"
        lines.append(f"| `{r['module']}` | {r['mutants'] - r['skipped']} | {caught} | {r['mutants'] - r['skipped'] - caught} | "
                     f"{score} | {at}, {r['date']} |")
    return lines


def markdown(stored: dict) -> str:
    lines = [
        "# Mutation scores",
        "",
        "Written by `sh tools/mutation.sh` (which runs `tools/mutation.py`); do not edit by hand.",
        "Each module is mutated alone with mutmut and tested against the tests listed for it in",
        "`[tool.pfpp.mutation_tests]` in pyproject.toml. Score = (killed + timeout) / (mutants - skipped).",
        "Why the mutants that survive are accepted: tests/README.md, section Mutation score.",
        "",
        "| Module | Mutants | Killed | Timeout | Survived | No tests | Score | Minutes | Commit | Date | mutmut |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in stored.values():
        score = "n/a" if r["score"] is None else f"{100 * r['score']:.1f}%"
        how = f"{r['seconds'] / 60:.1f}" + (f" ({r['runs']} runs)" if r["runs"] > 1 else "")
        lines.append(
            f"| `{r['module']}` | {r['mutants']} | {r['killed']} | {r['timeout']} | {r['survived']} | {r['no_tests']} | "
            f"{score} | {how} | {r['commit']} | {r['date']} | {r['mutmut']} |"
        )
    lines += ["", "Minutes: wall time on the machine that ran it, with `--jobs` test processes, of the fresh",
              "run and of any later runs (`--again`) that tested its survivors again with new tests.", ""]
    for r in stored.values():
        lines += [f"## `{r['module']}`", "", "Tests: `" + " ".join(r["tests"]) + "`", ""]
        if r["not_killed"]:
            lines += ["Not killed:", ""] + [f"- `{name}`" for name in r["not_killed"]] + [""]
        else:
            lines += ["Every mutant killed.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="modules to mutate (default: [tool.mutmut] only_mutate)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATION_JOBS", "2")), help="test processes (default 2)")
    parser.add_argument("--again", action="store_true", help="test only the last run's survivors again, with the current tests")
    parser.add_argument("--resume", action="store_true", help="finish an interrupted run (untested mutants only)")
    parser.add_argument("--only", action="append", default=[], metavar="GLOB", help="with --again: only the survivors matching GLOB")
    args = parser.parse_args(argv)
    tool = config()
    base, selections = tool["mutmut"], tool["pfpp"]["mutation_tests"]
    modules = args.modules or base["only_mutate"]
    unknown = [m for m in modules if m not in selections]
    if unknown:
        sys.exit(f"error: no tests listed for {', '.join(unknown)} in [tool.pfpp.mutation_tests] of pyproject.toml")
    for module in modules:
        record = run_module(module, selections[module], base, jobs=args.jobs, again=args.again, resume=args.resume, only=args.only)
        write_results([record])
        score = "n/a" if record["score"] is None else f"{100 * record['score']:.1f}%"
        caught = record["killed"] + record["timeout"]
        print(f"{module:32} {caught:4d} / {record['mutants'] - record['skipped']:4d} killed ({score}) in {record['seconds'] / 60:.1f} min", flush=True)
    print(f"Results: {RESULTS_MD.relative_to(ROOT)}; survivors of a module: cd {WORK.relative_to(ROOT)}/<module> && mutmut show <name>")


if __name__ == "__main__":
    main()
