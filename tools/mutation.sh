#!/bin/sh
# Mutation testing of the scenario loader and the funding ledger: mutmut changes the code
# one small edit at a time and counts the edits the tests catch ("killed"). The files
# mutated and the tests run are set in [tool.mutmut] in pyproject.toml; tests/README.md
# records the scores. Needs the 'mutation' extra (pip install -e ".[mutation]").
#
# Usage: sh tools/mutation.sh   (MUTATION_JOBS=N sets parallel test processes, default 2)
set -eu
cd "$(dirname "$0")/.."
rm -rf mutants
mutmut run --max-children "${MUTATION_JOBS:-2}" > /dev/null
mutmut results --all true | awk '
    { split($1, name, "."); file = name[2] ".py"; total[file]++; if ($2 == "killed") killed[file]++; all++; if ($2 == "killed") caught++ }
    END {
        for (file in total) printf "%-12s %4d / %4d killed (%.1f%%)\n", file, killed[file], total[file], 100 * killed[file] / total[file]
        printf "%-12s %4d / %4d killed (%.1f%%)\n", "all", caught, all, 100 * caught / all
    }'
echo "Surviving mutants: mutmut results; inspect one with: mutmut show <name>"
