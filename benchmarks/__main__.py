"""``python -m benchmarks [--quick] [--out DIR]``: run the benchmarks and write their results."""

from __future__ import annotations

import argparse

from benchmarks import RESULTS, run, save


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="only the two smallest scales, fewer repeats, 2,000 households")
    parser.add_argument("--out", default=str(RESULTS), help="folder for <mode>.json and <mode>.md (default: benchmarks/results)")
    args = parser.parse_args(argv)
    files = save(run(quick=args.quick), args.out)
    print(files["markdown"].read_text(encoding="utf-8"))
    print(f"Wrote {files['json']} and {files['markdown']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
