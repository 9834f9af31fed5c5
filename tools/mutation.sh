#!/bin/sh
# Mutation score of each module: mutmut changes the code one small edit at a time and
# counts the edits the tests catch ("killed"). Each module of [tool.mutmut] only_mutate in
# pyproject.toml is mutated alone, against the tests listed for it in
# [tool.pfpp.mutation_tests]; the per-module scores go to docs/mutation.md (and
# docs/mutation.json), and tests/README.md says why the survivors are accepted.
# Needs the 'mutation' extra (pip install -e ".[mutation]") and mutmut on PATH.
#
# Usage: sh tools/mutation.sh [--again | --resume] [MODULE ...]
#   MODULE   e.g. pfpp_sim/agents/council.py (default: every module of only_mutate)
#   --again  test only the survivors of the last run again, with the current tests
#   --resume finish an interrupted run: test only the mutants not yet tested
#   MUTATION_JOBS=N sets the parallel test processes (default 2)
set -eu
cd "$(dirname "$0")/.."
exec python tools/mutation.py "$@"
