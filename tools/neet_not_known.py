"""How the DfE "activity not known" share moves with the published NEET 16-17 rate.

Prints, for each pair of consecutive DfE time periods, over the upper-tier authorities
with both years published: the correlation of the change in the NEET rate with the
change in the not-known share (better tracking finds NEET young people), and with the
not-known share of the first year (whether a high share predicts a rise). The figures of
docs/calibration.md ("NEET 16-17 as cohorts") come from it.

Usage::

    python tools/neet_not_known.py
"""

from __future__ import annotations

import numpy as np

from pfpp_sim import data


def main() -> None:
    table = data.neet_16_17()
    authorities = table[table["area_code"].str[:3].isin(("E06", "E08", "E09", "E10"))]
    wide = authorities.pivot_table(index="area_code", columns="time_period", values=["neet_rate", "not_known_rate"])
    neet, not_known = wide["neet_rate"] * 100, wide["not_known_rate"] * 100
    national = table[table["area_code"] == data.ENGLAND].set_index("time_period")
    print("| periods | authorities | corr. of NEET change with not-known change | corr. of NEET change with not-known share before |")
    print("|---|---:|---:|---:|")
    years = sorted(neet.columns)
    for before, after in zip(years[:-1], years[1:]):
        change = neet[after] - neet[before]
        known = change.notna() & not_known[before].notna() & not_known[after].notna()
        with_change = np.corrcoef(change[known], (not_known[after] - not_known[before])[known])[0, 1]
        with_level = np.corrcoef(change[known], not_known[before][known])[0, 1]
        print(f"| {before} to {after} | {int(known.sum())} | {with_change:+.2f} | {with_level:+.2f} |")
    print()
    print("England: " + "; ".join(
        f"{year} NEET {row.neet_rate:.1%}, not known {row.not_known_rate:.1%}" for year, row in national.iterrows()
    ))


if __name__ == "__main__":
    main()
