"""Rebuild the tidy tables in ``pfpp_sim/data/tables/`` from the raw open-data files.

Usage::

    python tools/vendor_data.py [RAW_DIR]

``RAW_DIR`` defaults to ``../shared/data/raw`` relative to the repository root. The
script only reads ``RAW_DIR`` and only writes the generated tables listed in
``GENERATED``; the hand-entered tables (``energy_price_cap.csv``,
``household_support.csv``), ``SOURCES.md`` and ``LICENCE.md`` are left alone.
Values are filtered, renamed and reshaped, never edited. Every check that fails raises
``VendorError`` naming the raw file, the key and the value.

This is a maintenance tool: the ``pfpp_sim`` package never imports it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

__all__ = ["GENERATED", "VendorError", "main", "vendor"]

REPO_ROOT = Path(__file__).resolve().parent.parent
TABLES_DIR = REPO_ROOT / "pfpp_sim" / "data" / "tables"
DEFAULT_RAW_DIR = REPO_ROOT.parent / "shared" / "data" / "raw"

GENERATED = (
    "fuel_poverty_lilee_2019_2021.csv",
    "fuel_poverty_lihc_pilots_2011_2018.csv",
    "neet_16_17_2021_2024.csv",
    "census2021_tenure.csv",
    "census2021_age_5y.csv",
    "epc_lodgements_by_band.csv",
    "gdhi_per_head_2015_2023.csv",
    "district_to_county.csv",
    "modelled_unemployment_2015_2023.csv",
)

NEET_YEARS = (2021, 2022, 2023, 2024)
NEET_MISSING = ("c", "x", "z", "low", "u", ":", "")
# Northumberland was recoded in April 2013 (boundary change); the LIHC editions up to
# data year 2018 still publish the old code.
RECODED = {"E06000048": "E06000057"}
EPC_WINDOWS = ("2013-10-01", "2016-04-01")
GDHI_YEARS = range(2015, 2024)
UNEMPLOYMENT_YEARS = range(2015, 2024)
# Districts, unitaries, metropolitan and London boroughs, regions, England (no combined authorities).
UNEMPLOYMENT_AREAS = r"^E(0[6-9]|12|92)\d{6}$"
BANDS = tuple("ABCDEFG")

TENURE_COLUMNS = {
    "geography code": "area_code",
    "geography": "area_name",
    "Tenure of household: Total: All households": "households",
    "Tenure of household: Owned": "owned",
    "Tenure of household: Shared ownership": "shared_ownership",
    "Tenure of household: Social rented": "social_rented",
    "Tenure of household: Private rented": "private_rented",
    "Tenure of household: Lives rent free": "rent_free",
}


class VendorError(Exception):
    """A raw file is missing, malformed or disagrees with a published extract."""


def _read(raw_dir: Path, name: str) -> pd.DataFrame:
    path = raw_dir / name
    if not path.is_file():
        raise VendorError(f"{name}: raw file not found in {raw_dir}")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _numeric(frame: pd.DataFrame, columns: list[str], name: str, *, missing=()) -> pd.DataFrame:
    """Convert columns to numbers; listed suppression markers become NaN, anything else fails."""
    out = frame.copy()
    for col in columns:
        text = out[col].str.strip()
        values = pd.to_numeric(text.where(~text.isin(missing)), errors="coerce")
        bad = values.isna() & ~text.isin(missing)
        if bad.any():
            raise VendorError(
                f"{name}: column {col!r} has non-numeric value {text[bad].iloc[0]!r}; "
                f"expected a number or one of {missing}"
            )
        out[col] = values
    return out


def _lilee(raw_dir: Path) -> pd.DataFrame:
    name = "desnz_subregional_fuel_poverty_LILEE_all_areas_2019_2021.csv"
    raw = _read(raw_dir, name)
    if set(raw["measure"]) != {"LILEE"}:
        raise VendorError(f"{name}: measure = {sorted(set(raw['measure']))}; expected only LILEE")
    cols = ["measure", "data_year", "area_code", "area_name", "households",
            "fuel_poor_households", "pct_fuel_poor"]
    return _numeric(raw[cols], ["households", "fuel_poor_households", "pct_fuel_poor"], name)


def _lihc(raw_dir: Path) -> pd.DataFrame:
    name = "desnz_subregional_fuel_poverty_pfpp_las_2011_2021.csv"
    raw = _read(raw_dir, name)
    lihc = raw[raw["measure"] == "LIHC"].copy()
    if lihc["data_year"].astype(int).max() > 2018:
        raise VendorError(f"{name}: LIHC rows after 2018; expected LIHC only for 2011-2018")
    lihc["published_area_code"] = lihc["area_code"]
    lihc["area_code"] = lihc["area_code"].replace(RECODED)
    cols = ["measure", "data_year", "area_code", "published_area_code", "area_name",
            "households", "fuel_poor_households", "pct_fuel_poor", "note"]
    return _numeric(lihc[cols], ["households", "fuel_poor_households", "pct_fuel_poor"], name)


def _district_to_county(lilee: pd.DataFrame, region_names: dict[str, str]) -> pd.DataFrame:
    """Read the county and region of each LA from the row order of DESNZ Table 2.

    Table 2 lists each region, then its unitary authorities, then each county followed by
    its districts. A district's county is therefore the last ``E10`` row above it. The
    mapping is checked: each county's households equal the sum over its districts.
    Region names are taken from the Census (``region_names``), as DESNZ prints them in
    capitals and calls the East of England "EAST".
    """
    rows = {}
    for year, table in lilee.groupby("data_year", sort=True):
        region = county = None
        for rec in table.itertuples(index=False):
            prefix = rec.area_code[:3]
            if prefix == "E12":
                region, county = rec, None
            elif prefix == "E10":
                county = rec
            elif prefix in ("E06", "E07", "E08", "E09"):
                if prefix != "E07":
                    county = None
                elif county is None:
                    raise VendorError(
                        f"fuel poverty Table 2 {year}: district {rec.area_code} "
                        "does not follow a county row"
                    )
                entry = {
                    "area_code": rec.area_code,
                    "area_name": rec.area_name,
                    "county_code": county.area_code if prefix == "E07" else "",
                    "county_name": county.area_name if prefix == "E07" else "",
                    "region_code": region.area_code,
                    "region_name": region_names[region.area_code],
                    "last_data_year": int(year),
                }
                old = rows.get(rec.area_code)
                if old and (old["county_code"], old["region_code"]) != (
                    entry["county_code"], entry["region_code"]
                ):
                    raise VendorError(
                        f"fuel poverty Table 2 {year}: {rec.area_code} moves from "
                        f"{old['county_code'] or old['region_code']} to "
                        f"{entry['county_code'] or entry['region_code']}"
                    )
                rows[rec.area_code] = entry
            elif prefix not in ("E11", "E13", "E92"):
                raise VendorError(f"fuel poverty Table 2 {year}: unexpected code {rec.area_code}")
        for county_code, districts in _districts_by_county(rows, year).items():
            county_hh = table.loc[table["area_code"] == county_code, "households"].iloc[0]
            total = table.loc[table["area_code"].isin(districts), "households"].sum()
            if abs(total - county_hh) > 0.001 * county_hh:
                raise VendorError(
                    f"fuel poverty Table 2 {year}: county {county_code} households "
                    f"{county_hh:.0f} != sum over its districts {total:.0f}"
                )
    return pd.DataFrame(sorted(rows.values(), key=lambda r: r["area_code"]))


def _districts_by_county(rows: dict, year: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in rows.values():
        if r["county_code"] and r["last_data_year"] == int(year):
            out.setdefault(r["county_code"], []).append(r["area_code"])
    return out


def _neet(raw_dir: Path) -> pd.DataFrame:
    frames = []
    for year in NEET_YEARS:
        name = f"dfe_nccis_neet_la_underlying/UD_NEETNK_LA_time_period_{year}.csv"
        raw = _read(raw_dir, name)
        raw = raw[raw["Age"] == "16-17"]
        # The 2021 file carries two dashboard placeholder rows ("Region demo", "LA demo").
        raw = raw[~raw["region_name"].str.contains("demo", case=False)]
        level = raw["geographic_level"]
        code = raw["new_la_code"].where(level == "Local authority", raw["region_code"])
        code = code.where(level != "National", raw["country_code"])
        area = raw["la_name"].where(level == "Local authority", raw["region_name"])
        area = area.where(level != "National", raw["country_name"])
        tidy = pd.DataFrame({
            "time_period": raw["time_period"].astype(int),
            "geographic_level": level,
            "area_code": code,
            "area_name": area,
            "cohort_djf_avg": raw["Cohort_DJFavg"],
            "neet_percent": raw["NEET_percent"],
            "not_known_percent": raw["Notknown_percent"],
            "neet_not_known_percent": raw["NEET_not_known_percent"],
        })
        if (tidy["area_code"].str.len() != 9).any():
            bad = tidy.loc[tidy["area_code"].str.len() != 9, "area_name"].iloc[0]
            raise VendorError(f"{name}: row {bad!r} has no 9-character ONS code")
        if tidy["area_code"].duplicated().any():
            dup = tidy.loc[tidy["area_code"].duplicated(), "area_code"].iloc[0]
            raise VendorError(f"{name}: area_code {dup} appears twice")
        frames.append(_numeric(tidy, list(tidy.columns[4:]), name, missing=NEET_MISSING))
    return pd.concat(frames, ignore_index=True)


def _check_neet_against_extract(raw_dir: Path, neet: pd.DataFrame) -> None:
    name = "dfe_nccis_neet_16_17_pfpp_las_2021_2024.csv"
    extract = _read(raw_dir, name)
    pairs = {
        "Cohort_DJFavg": "cohort_djf_avg",
        "NEET_percent": "neet_percent",
        "Notknown_percent": "not_known_percent",
        "NEET_not_known_percent": "neet_not_known_percent",
    }
    keyed = neet.set_index(["time_period", "area_code"])
    for rec in extract.to_dict("records"):
        key = (int(rec["time_period"]), rec["code"])
        if key not in keyed.index:
            raise VendorError(f"{name}: {key} is missing from the underlying NEET files")
        for src, dst in pairs.items():
            if abs(float(rec[src]) - keyed.at[key, dst]) > 1e-9:
                raise VendorError(
                    f"{name}: {key} {src} = {rec[src]} but the underlying file has "
                    f"{keyed.at[key, dst]}"
                )


def _census(raw_dir: Path, table: str, levels: tuple[str, ...], columns: dict) -> pd.DataFrame:
    """Stack Census tables for England, one row per area at its lowest level."""
    frames = []
    for level in levels:
        name = f"ons_census2021_{table}_{level}.csv"
        raw = _read(raw_dir, name)
        tidy = raw[list(columns)].rename(columns=columns)
        tidy = _numeric(tidy, list(tidy.columns[2:]), name)
        tidy.insert(2, "level", level)
        frames.append(tidy[tidy["area_code"].str.startswith("E")])
    stacked = pd.concat(frames, ignore_index=True)
    values = list(stacked.columns[3:])
    first = stacked.drop_duplicates("area_code", keep="first")
    check = stacked.merge(first, on="area_code", suffixes=("", "_first"))
    for col in values:
        differs = check[col] != check[f"{col}_first"]
        if differs.any():
            code = check.loc[differs, "area_code"].iloc[0]
            raise VendorError(f"ons_census2021_{table}: {code} {col} differs between levels")
    return first.reset_index(drop=True)


def _tenure(raw_dir: Path) -> pd.DataFrame:
    tidy = _census(raw_dir, "ts054_tenure", ("ltla", "utla", "rgn", "ctry"), TENURE_COLUMNS)
    parts = tidy[["owned", "shared_ownership", "social_rented", "private_rented", "rent_free"]]
    gap = parts.sum(axis=1) != tidy["households"]
    if gap.any():
        raise VendorError(
            f"ons_census2021_ts054_tenure: {tidy.loc[gap, 'area_code'].iloc[0]} tenure "
            "categories do not sum to all households"
        )
    for col in tidy.columns[3:]:
        tidy[col] = tidy[col].astype("int64")
    return tidy


def _age(raw_dir: Path) -> pd.DataFrame:
    header = _read(raw_dir, "ons_census2021_ts007a_age5y_ctry.csv").columns
    columns = {"geography code": "area_code", "geography": "area_name", "Age: Total": "total"}
    for col in header:
        if col.startswith("Age: Aged "):
            words = col.removeprefix("Age: Aged ").split()
            if words[-2:] == ["and", "under"]:
                columns[col] = f"age_0_{words[0]}"
            elif words[-2:] == ["and", "over"]:
                columns[col] = f"age_{words[0]}_plus"
            else:
                columns[col] = f"age_{words[0]}_{words[2]}"
    tidy = _census(raw_dir, "ts007a_age5y", ("ltla", "utla", "ctry"), columns)
    gap = tidy[list(tidy.columns[4:])].sum(axis=1) != tidy["total"]
    if gap.any():
        raise VendorError(
            f"ons_census2021_ts007a_age5y: {tidy.loc[gap, 'area_code'].iloc[0]} age bands "
            "do not sum to the total"
        )
    for col in tidy.columns[3:]:
        tidy[col] = tidy[col].astype("int64")
    return tidy


def _epc(raw_dir: Path) -> pd.DataFrame:
    name = "dluhc_epc_lodgements_by_band_la_3windows.csv"
    raw = _read(raw_dir, name)
    keep = raw["window_start"].isin(EPC_WINDOWS) & raw["area_code"].str.startswith("E")
    tidy = raw.loc[keep, ["window_start", "window_end", "area_code", "band", "lodgements"]]
    tidy = _numeric(tidy, ["lodgements"], name)
    tidy["lodgements"] = tidy["lodgements"].astype("int64")
    counts = tidy.groupby(["window_start", "area_code"])["band"].agg(lambda b: tuple(sorted(b)))
    bad = counts[counts != BANDS]
    if len(bad):
        raise VendorError(f"{name}: {bad.index[0]} has bands {bad.iloc[0]}; expected A-G once each")
    return tidy.reset_index(drop=True)


def _gdhi(raw_dir: Path) -> pd.DataFrame:
    name = "ons_gdhi_per_head_england_1997_2023.csv"
    raw = _read(raw_dir, name)
    raw = raw[raw["year"].astype(int).isin(GDHI_YEARS)]
    tidy = raw[["areacd", "areanm", "geography", "year", "observation"]].rename(columns={
        "areacd": "area_code", "areanm": "area_name", "observation": "gdhi_per_head_gbp",
    })
    tidy = _numeric(tidy, ["year", "gdhi_per_head_gbp"], name)
    tidy["year"] = tidy["year"].astype("int64")
    if tidy.duplicated(["area_code", "year"]).any():
        raise VendorError(f"{name}: an (areacd, year) pair appears twice")
    return tidy.reset_index(drop=True)


def _modelled_unemployment(raw_dir: Path) -> pd.DataFrame:
    name = "ons_modelled_unemployment_rate_16plus_england_2004_2023.csv"
    raw = _read(raw_dir, name)
    if set(raw["indicator"]) != {"Modelled unemployment rate"} or set(raw["unit"]) != {"%"}:
        raise VendorError(f"{name}: indicator = {sorted(set(raw['indicator']))}; expected only the modelled unemployment rate in %")
    raw = raw[raw["year"].astype(int).isin(UNEMPLOYMENT_YEARS) & raw["areacd"].str.match(UNEMPLOYMENT_AREAS)]
    tidy = raw[["areacd", "areanm", "geography", "year", "observation", "lci_95", "uci_95", "status"]].rename(columns={
        "areacd": "area_code", "areanm": "area_name", "observation": "unemployment_percent",
    })
    # Status "x" (not available) leaves the value blank: kept as missing, never 0.
    tidy = _numeric(tidy, ["year", "unemployment_percent", "lci_95", "uci_95"], name, missing=("",))
    tidy["year"] = tidy["year"].astype("int64")
    blank = tidy["unemployment_percent"].isna() & (tidy["status"] != "x")
    if blank.any():
        raise VendorError(f"{name}: {tidy.loc[blank, 'area_code'].iloc[0]} has no value but status {tidy.loc[blank, 'status'].iloc[0]!r}; expected 'x'")
    if tidy.duplicated(["area_code", "year"]).any():
        raise VendorError(f"{name}: an (areacd, year) pair appears twice")
    return tidy.reset_index(drop=True)


def vendor(raw_dir: Path, out_dir: Path = TABLES_DIR) -> dict[str, int]:
    """Rebuild the generated tables.

    Parameters
    ----------
    raw_dir : Path
        Directory holding the raw files described in the raw ``SOURCES.md``.
    out_dir : Path, default ``pfpp_sim/data/tables``
        Where the tidy CSV files are written.

    Returns
    -------
    dict of str to int
        Rows written per file name.

    Raises
    ------
    VendorError
        If a raw file is missing, a value is malformed, or a consistency check fails.
    """
    lilee = _lilee(raw_dir)
    neet = _neet(raw_dir)
    _check_neet_against_extract(raw_dir, neet)
    tenure = _tenure(raw_dir)
    regions = tenure[tenure["level"] == "rgn"]
    region_names = dict(zip(regions["area_code"], regions["area_name"]))
    tables = {
        "fuel_poverty_lilee_2019_2021.csv": lilee,
        "fuel_poverty_lihc_pilots_2011_2018.csv": _lihc(raw_dir),
        "neet_16_17_2021_2024.csv": neet,
        "census2021_tenure.csv": tenure,
        "census2021_age_5y.csv": _age(raw_dir),
        "epc_lodgements_by_band.csv": _epc(raw_dir),
        "gdhi_per_head_2015_2023.csv": _gdhi(raw_dir),
        "district_to_county.csv": _district_to_county(lilee, region_names),
        "modelled_unemployment_2015_2023.csv": _modelled_unemployment(raw_dir),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(out_dir / name, index=False, lineterminator="\n")
    return {name: len(frame) for name, frame in tables.items()}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw_dir", nargs="?", type=Path, default=DEFAULT_RAW_DIR,
                        help="directory of raw files (default: ../shared/data/raw from the repo root)")
    args = parser.parse_args(argv)
    try:
        written = vendor(args.raw_dir)
    except VendorError as err:
        print(f"vendor_data: {err}", file=sys.stderr)
        return 1
    for name, n_rows in written.items():
        print(f"{n_rows:6d}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
