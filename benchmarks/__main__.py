"""Run the benchmarks and write their results (``python -m benchmarks [--quick] [--national]``)."""

from __future__ import annotations

import argparse

from benchmarks import RESULTS, run, save


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="two small scales, 12 months, a small naive run: under a minute")
    parser.add_argument("--national", action="store_true", help="also the 1:1 national run (about 23 M households), twice")
    parser.add_argument("--out", default=str(RESULTS), help="folder for the .json and .md results (default: benchmarks/results)")
    args = parser.parse_args(argv)
    files = save(run(quick=args.quick, national=args.national), args.out)
    print(files["markdown"].read_text(encoding="utf-8"))
    print(f"Wrote {files['json']} and {files['markdown']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
