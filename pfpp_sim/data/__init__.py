"""Tidy loaders for the open data vendored in ``pfpp_sim/data/tables``.

Every table is keyed by ONS area code (``area_code``), reads offline from the package,
and is cached after the first read; each function returns a new frame or array, so
callers may modify what they get. Rates are fractions in [0, 1], counts are households
or persons, money is GBP. ``tables/SOURCES.md`` gives publishers, copies, caveats and
the Open Government Licence v3.0 attribution; ``tools/vendor_data.py`` rebuilds the
extracted tables from the raw files.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np
import pandas as pd

from pfpp_sim.errors import DataError

__all__ = [
    "BANDS",
    "ENGLAND",
    "PILOT_CODES",
    "BandShares",
    "county_districts",
    "energy_efficiency_bands",
    "energy_price_cap",
    "fuel_poverty",
    "gdhi_per_head",
    "household_support",
    "median_income",
    "modelled_unemployment",
    "neet_16_17",
    "nested_places",
    "places",
    "tenure",
    "youth_population",
]

ENGLAND = "E92000001"
BANDS = ("A", "B", "C", "D", "E", "F", "G")
PILOT_CODES = (
    "E08000025",  # Birmingham
    "E08000032",  # Bradford
    "E06000052",  # Cornwall
    "E06000047",  # County Durham
    "E10000011",  # East Sussex (county)
    "E07000062",  # Hastings (district in East Sussex)
    "E09000012",  # Hackney
    "E08000012",  # Liverpool
    "E06000032",  # Luton
    "E08000021",  # Newcastle upon Tyne
    "E06000057",  # Northumberland
    "E09000028",  # Southwark
    "E08000024",  # Sunderland
    "E08000036",  # Wakefield
)

# EVIDENCE E23 (England 2019, % of dwellings): A-C 40, D 47, E 10, F/G 3. The split of
# A-C into A 0.5 / B 12 / C 27.5 and of F/G into F 2.4 / G 0.6 is assumption:band_split.
_ENGLAND_BAND_SHARES = (0.005, 0.12, 0.275, 0.47, 0.10, 0.024, 0.006)
_EPC_WINDOW_START = "2013-10-01"
_LOWER_TIER = ("E06", "E07", "E08", "E09")
_UNEMPLOYMENT_FILE = "modelled_unemployment_2015_2023.csv"
_UNEMPLOYMENT_PLACE_YEARS = (2019, 2023)
_FUEL_POVERTY_FILES = {
    "LILEE": "fuel_poverty_lilee_2019_2021.csv",
    "LIHC": "fuel_poverty_lihc_pilots_2011_2018.csv",
}
_SUCCESSORS = {
    # The Northamptonshire (Structural Changes) Order 2020 (SI 2020/156): two unitary
    # councils from 1 April 2021, replacing the county and its seven districts. The LILEE
    # 2019 edition still reports the districts.
    "E06000061": ("E07000150", "E07000152", "E07000153", "E07000156"),  # North: Corby, East Northants, Kettering, Wellingborough
    "E06000062": ("E07000151", "E07000154", "E07000155"),  # West: Daventry, Northampton, South Northamptonshire
}
"""Unitary authorities -> the districts they replaced, for data years published on the old boundaries."""
_TEXT_COLUMNS = (
    "area_code", "published_area_code", "area_name", "county_code", "county_name",
    "region_code", "region_name", "level", "geographic_level", "geography", "band",
    "window_start", "window_end", "measure", "note", "evidence_key", "scheme",
    "eligibility", "effective_date", "start_date", "end_date", "financial_year", "status",
)


@cache
def _table(name: str) -> pd.DataFrame:
    """Read one vendored CSV; the cached frame is shared and must not be modified."""
    resource = files(__name__) / "tables" / name
    try:
        with resource.open("rb") as handle:
            return pd.read_csv(handle, dtype={col: str for col in _TEXT_COLUMNS})
    except FileNotFoundError as err:
        raise DataError(f"{name}: packaged data table not found in pfpp_sim/data/tables") from err


def _dates(frame: pd.DataFrame, columns: Sequence[str], name: str) -> pd.DataFrame:
    out = frame.copy()
    for col in columns:
        try:
            out[col] = pd.to_datetime(out[col], format="%Y-%m-%d")
        except (ValueError, TypeError) as err:
            raise DataError(f"{name}: column {col!r} has a value that is not an ISO date") from err
    return out


def fuel_poverty(measure: str = "LILEE") -> pd.DataFrame:
    """Households in fuel poverty by area and data year (DESNZ sub-regional statistics).

    Parameters
    ----------
    measure : {"LILEE", "LIHC"}, default "LILEE"
        ``"LILEE"`` (Low Income Low Energy Efficiency, official from data year 2019):
        England, regions, counties and all local authorities, data years 2019-2021.
        ``"LIHC"`` (Low Income High Costs): the 14 pilot places and England, data years
        2011-2018. The two measures are a series break: never join them into one trend.

    Returns
    -------
    DataFrame
        ``area_code`` (str, ONS), ``area_name`` (str), ``data_year`` (int, the year the
        estimate refers to), ``households`` and ``fuel_poor_households`` (households),
        ``rate`` (float, fraction of households fuel poor, 0-1). LIHC rows use current
        codes (Northumberland E06000057, published as E06000048 to 2018). A LILEE year
        published on boundaries older than a unitary authority (North and West
        Northamptonshire in 2019) gets a row for the unitary summing the districts it
        replaced (households and fuel-poor households; the rate is their ratio).

    Raises
    ------
    DataError
        If ``measure`` is not ``"LILEE"`` or ``"LIHC"``.
    """
    if measure not in _FUEL_POVERTY_FILES:
        raise DataError(f"fuel_poverty: measure = {measure!r}; expected 'LILEE' or 'LIHC'")
    table = _table(_FUEL_POVERTY_FILES[measure])
    frame = pd.DataFrame({
        "area_code": table["area_code"],
        "area_name": table["area_name"],
        "data_year": table["data_year"].astype("int64"),
        "households": table["households"],
        "fuel_poor_households": table["fuel_poor_households"],
        "rate": table["pct_fuel_poor"] / 100.0,
    })
    return frame if measure == "LIHC" else pd.concat([frame, _successor_rows(frame)], ignore_index=True)


def _successor_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows for unitary authorities in data years published only for the districts they replaced."""
    rows = []
    names = frame.drop_duplicates("area_code").set_index("area_code")["area_name"]
    for code, districts in _SUCCESSORS.items():
        for year, g in frame[frame["area_code"].isin(districts)].groupby("data_year"):
            published = ((frame["area_code"] == code) & (frame["data_year"] == year)).any()
            if published or len(g) != len(districts):
                continue
            households, poor = g["households"].sum(), g["fuel_poor_households"].sum()
            rows.append((code, names.get(code, code), int(year), households, poor, poor / households))
    return pd.DataFrame(rows, columns=frame.columns).astype(frame.dtypes.to_dict())


def neet_16_17() -> pd.DataFrame:
    """16-17 year olds NEET or with activity not known (DfE NCCIS), 2021-2024.

    England, regions and upper-tier local authorities. Districts (such as Hastings) are
    not published; use their county (see ``places``). Suppressed values are NaN.

    Returns
    -------
    DataFrame
        ``area_code`` (str, ONS), ``area_name`` (str), ``time_period`` (int, year YYYY:
        average over December YYYY-1 to February YYYY), ``cohort`` (float, persons aged
        16-17 known to the authority, three-month average), ``neet_rate`` (confirmed
        NEET), ``not_known_rate`` (activity not known: a tracking gap, not measured
        disengagement) and ``neet_not_known_rate``; rates are fractions 0-1 of the
        cohort, each rounded by DfE, so the two parts need not add exactly to the total.
    """
    table = _table("neet_16_17_2021_2024.csv")
    return pd.DataFrame({
        "area_code": table["area_code"],
        "area_name": table["area_name"],
        "time_period": table["time_period"].astype("int64"),
        "cohort": table["cohort_djf_avg"],
        "neet_rate": table["neet_percent"] / 100.0,
        "not_known_rate": table["not_known_percent"] / 100.0,
        "neet_not_known_rate": table["neet_not_known_percent"] / 100.0,
    })


def tenure() -> pd.DataFrame:
    """Households by tenure, Census 2021 (TS054), England and its areas.

    Returns
    -------
    DataFrame
        One row per area: ``area_code``, ``area_name``, ``level`` (``ltla`` for
        districts, unitaries, metropolitan and London boroughs; ``utla`` for counties;
        ``rgn``; ``ctry``), counts of households ``households``, ``owner`` (owned
        outright or with a mortgage, plus shared ownership), ``social_rent`` and
        ``private_rent`` (private rented plus lives rent free), and their fractions of
        all households ``share_owner``, ``share_social_rent``, ``share_private_rent``,
        which sum to 1.
    """
    table = _table("census2021_tenure.csv")
    out = table[["area_code", "area_name", "level", "households"]].copy()
    out["owner"] = table["owned"] + table["shared_ownership"]
    out["social_rent"] = table["social_rented"]
    out["private_rent"] = table["private_rented"] + table["rent_free"]
    for col in ("owner", "social_rent", "private_rent"):
        out[f"share_{col}"] = out[col] / out["households"]
    return out


def youth_population() -> pd.DataFrame:
    """Usual residents aged 16-17 and 18-24, estimated from Census 2021 (TS007A).

    The Census table has five-year bands only, so ages are split assuming residents are
    spread evenly over single years within a band: 16-17 = 2/5 of the 15-19 band;
    18-24 = 2/5 of the 15-19 band plus all of the 20-24 band. This is an assumption;
    it ignores cohort-size differences within a band (for example students in
    university towns).

    Returns
    -------
    DataFrame
        ``area_code``, ``area_name``, ``level`` (``ltla``, ``utla`` for counties, or
        ``ctry``), ``age_16_17``, ``age_18_24``, ``age_16_24`` (float, persons).
    """
    table = _table("census2021_age_5y.csv")
    out = table[["area_code", "area_name", "level"]].copy()
    out["age_16_17"] = 0.4 * table["age_15_19"]
    out["age_18_24"] = 0.4 * table["age_15_19"] + table["age_20_24"]
    out["age_16_24"] = out["age_16_17"] + out["age_18_24"]
    return out


@dataclass(frozen=True, eq=False)
class BandShares:
    """Energy-efficiency band shares of one area and where they came from.

    Attributes
    ----------
    shares : ndarray of float64, shape (7,)
        Fractions of dwellings in bands A..G; they sum to 1.
    source : str
        ``"epc_lodgements_2013_2023"`` (the area's own EPC lodgements) or
        ``"england_E23_assumed_split"`` (England's national shares, EVIDENCE E23).
    """

    shares: np.ndarray
    source: str


@cache
def _epc_shares() -> dict[str, tuple[float, ...]]:
    table = _table("epc_lodgements_by_band.csv")
    window = table[table["window_start"] == _EPC_WINDOW_START]
    counts = window.pivot(index="area_code", columns="band", values="lodgements")
    counts = counts.reindex(columns=list(BANDS)).fillna(0.0)
    shares = counts.div(counts.sum(axis=1), axis=0)
    return {code: tuple(row) for code, row in zip(shares.index, shares.to_numpy())}


def energy_efficiency_bands(area_code: str) -> BandShares:
    """Shares of dwellings by energy-efficiency band A-G for one area.

    Uses the area's domestic EPC lodgements over 2013 Q4-2023 Q3 (DLUHC live table D1).
    These are certificates lodged, not the housing stock: new-build and rented homes are
    over-represented. Areas without EPC rows (counties such as East Sussex E10000011,
    England itself, and unitaries created after 2023) fall back to England's national
    shares from EVIDENCE E23 (2019: A-C 40%, D 47%, E 10%, F/G 3%), with the A-C and F/G
    groups split by assumption as A 0.5%, B 12%, C 27.5%, F 2.4%, G 0.6%.

    Parameters
    ----------
    area_code : str
        ONS code of an English area in the packaged EPC, Census 2021 or LILEE tables.

    Returns
    -------
    BandShares
        ``shares`` (ndarray of float64, shape (7,), fractions A..G summing to 1) and
        ``source`` naming which of the two was used.

    Raises
    ------
    DataError
        If ``area_code`` is not a known English area code.
    """
    shares = _epc_shares()
    if isinstance(area_code, str) and area_code in shares:
        return BandShares(np.array(shares[area_code], dtype=np.float64), "epc_lodgements_2013_2023")
    if not isinstance(area_code, str) or area_code not in _known_codes():
        raise DataError(
            f"energy_efficiency_bands: area_code = {area_code!r} is not in the EPC, Census "
            "2021 or LILEE tables; expected the ONS code of an English area"
        )
    return BandShares(np.array(_ENGLAND_BAND_SHARES, dtype=np.float64), "england_E23_assumed_split")


def gdhi_per_head(year: int) -> pd.DataFrame:
    """Gross disposable household income per head (ONS regional accounts) for one year.

    GDHI is a national-accounts household-sector measure per resident, not household
    income after housing costs. 2023 is provisional. Barnsley and Sheffield keep their
    pre-2025 codes (E08000016, E08000019).

    Parameters
    ----------
    year : int
        Calendar year, 2015-2023.

    Returns
    -------
    DataFrame
        ``area_code``, ``area_name``, ``gdhi_per_head_gbp`` (float, GBP per person per
        year, current prices) for England, regions, counties, unitaries and districts.

    Raises
    ------
    DataError
        If ``year`` is not an integer in the packaged range.
    """
    table = _table("gdhi_per_head_2015_2023.csv")
    years = sorted(set(table["year"]))
    if isinstance(year, bool) or not isinstance(year, (int, np.integer)) or year not in years:
        raise DataError(
            f"gdhi_per_head: year = {year!r}; expected an integer {years[0]}-{years[-1]}"
        )
    rows = table[table["year"] == year]
    return pd.DataFrame({
        "area_code": rows["area_code"],
        "area_name": rows["area_name"],
        "gdhi_per_head_gbp": rows["gdhi_per_head_gbp"].astype("float64"),
    }).reset_index(drop=True)


def energy_price_cap() -> pd.DataFrame:
    """Ofgem default tariff cap and what a typical household paid, Jan 2019-Oct 2025.

    Returns
    -------
    DataFrame
        One row per cap period: ``effective_date`` (datetime64, first day of the
        period; it runs to the next row's date), ``cap_gbp_per_year`` (typical dual-fuel
        direct-debit bill, GBP/year), ``paid_gbp_per_year`` (the Energy Price Guarantee,
        2,500 GBP/year, from 2022-10-01 to 2023-06-30 when the cap was above it;
        otherwise the cap), ``evidence_key`` (EVIDENCE.md keys, ``;``-separated),
        ``note`` (typical-use basis: 3,100/12,000 kWh electricity/gas in 2019 and for the
        April 2020 figure as announced, 2,900/12,000 to July 2023, 2,700/11,500 from
        October 2023, so the series has level breaks).
    """
    return _dates(_table("energy_price_cap.csv"), ["effective_date"], "energy_price_cap.csv")


def household_support() -> pd.DataFrame:
    """Government payments to households against energy and living costs, 2022-2024.

    The Energy Bills Support Scheme (400 GBP to every household, six monthly credits)
    and the means-tested cost-of-living payments of 2022 and 2023/24. The pensioner and
    disability cost-of-living payments are not included.

    Returns
    -------
    DataFrame
        One row per payment: ``scheme``, ``start_date`` and ``end_date`` (datetime64,
        the window in which it was paid; approximate windows say so in ``note``),
        ``amount_gbp`` (GBP per eligible household), ``eligibility``
        (``"all_households"`` or ``"means_tested"``), ``evidence_key``, ``note``.
    """
    return _dates(
        _table("household_support.csv"), ["start_date", "end_date"], "household_support.csv"
    )


def median_income() -> pd.DataFrame:
    """National median equivalised household income by financial year, UK, FYE 2020-FYE 2024.

    ONS Household Finances Survey, "Average household income, UK" (EVIDENCE E86): the
    median equivalised household disposable income (before housing costs), in each
    year's own prices (so nominal). A financial year ending (FYE) ``Y`` runs from
    April ``Y-1`` to March ``Y``.

    Returns
    -------
    DataFrame
        One row per financial year, in order: ``fye`` (int, the year it ends),
        ``financial_year`` (str, e.g. ``"2019/20"``), ``start_date`` (datetime64, 1 April),
        ``median_gbp_per_year`` (float, GBP per year), ``measure``, ``evidence_key``, ``note``.
    """
    name = "median_income_fye2020_2024.csv"
    out = _dates(_table(name), ["start_date"], name)
    out["median_gbp_per_year"] = out["median_gbp_per_year"].astype(np.float64)
    return out.sort_values("fye").reset_index(drop=True)


def modelled_unemployment() -> pd.DataFrame:
    """ONS model-based unemployment rate, ages 16+, by area and calendar year, 2015-2023.

    The share of economically active residents aged 16 and over who are unemployed (ILO),
    from the Annual Population Survey with a small-area model (ONS LI01; official
    statistics in development, volatile for small areas). England, regions, and
    districts, unitaries, metropolitan and London boroughs; counties are not published
    (see ``places`` for how they are filled). A year is January to December.

    Returns
    -------
    DataFrame
        ``area_code``, ``area_name``, ``year`` (int), ``rate``, ``low`` and ``high``
        (float, fractions 0-1: the estimate and its 95% confidence limits; NaN where ONS
        publishes none, as for the Isles of Scilly, or no limits).
    """
    table = _table(_UNEMPLOYMENT_FILE)
    return pd.DataFrame({
        "area_code": table["area_code"],
        "area_name": table["area_name"],
        "year": table["year"].astype("int64"),
        "rate": table["unemployment_percent"] / 100.0,
        "low": table["lci_95"] / 100.0,
        "high": table["uci_95"] / 100.0,
    })


def _unemployment_relative(codes: list[str], hierarchy: pd.DataFrame, households: pd.Series) -> tuple[list[float], list[str]]:
    """Each area's model-based unemployment rate relative to England's, and where it came from.

    The mean of the area's published rates in 2019-2023 over England's mean in the same
    years (``"own"``); for a county (not published), the household-weighted mean of its
    districts' relatives (``"districts"``); otherwise its region's (``"region"``), or 1
    (``"england"``).
    """
    table = modelled_unemployment()
    first, last = _UNEMPLOYMENT_PLACE_YEARS
    recent = table[table["year"].between(first, last)].dropna(subset=["rate"])
    by_area = recent.groupby("area_code")
    england = recent[recent["area_code"] == ENGLAND].set_index("year")["rate"]
    own = by_area["rate"].mean() / by_area["year"].agg(lambda years: england.loc[years].mean())

    def relative(code: str) -> tuple[float, str]:
        if code in own.index:
            return float(own[code]), "own"
        districts = [d for d in hierarchy.index[hierarchy["county_code"] == code] if d in own.index and d in households.index]
        if districts:
            return float(np.average(own[districts], weights=households[districts])), "districts"
        region = hierarchy["region_code"].get(code)
        if isinstance(region, str) and region in own.index:
            return float(own[region]), "region"
        return 1.0, "england"

    pairs = [relative(code) for code in codes]
    return [value for value, _ in pairs], [basis for _, basis in pairs]


@cache
def _known_codes() -> frozenset[str]:
    names = ("census2021_tenure.csv", "census2021_age_5y.csv", _FUEL_POVERTY_FILES["LILEE"])
    return frozenset().union(*(_table(name)["area_code"] for name in names))


@cache
def _census_codes() -> frozenset[str]:
    return frozenset(_table("census2021_tenure.csv")["area_code"]) & frozenset(
        _table("census2021_age_5y.csv")["area_code"]
    )


@cache
def _all_codes() -> tuple[str, ...]:
    lilee = _table(_FUEL_POVERTY_FILES["LILEE"])
    lilee_2021 = set(lilee.loc[lilee["data_year"] == 2021, "area_code"])
    codes = (c for c in _census_codes() & lilee_2021 if c.startswith(_LOWER_TIER))
    return tuple(sorted(codes))


def _neet_area(code: str, hierarchy: pd.DataFrame, published: set[str]) -> tuple[str, str]:
    if code in published:
        return code, "own"
    county = hierarchy["county_code"].get(code)
    if isinstance(county, str) and county in published:
        return county, "county"
    region = hierarchy["region_code"].get(code)
    if not isinstance(region, str):
        with_county = hierarchy[hierarchy["county_code"] == code]
        region = with_county["region_code"].iloc[0] if len(with_county) else None
    if isinstance(region, str) and region in published:
        return region, "region"
    return ENGLAND, "england"


@cache
def _place_table() -> pd.DataFrame:
    codes = sorted(_census_codes())
    tenure_by_code = tenure().set_index("area_code").loc[codes]
    youth = youth_population().set_index("area_code").loc[codes]
    hierarchy = _table("district_to_county.csv").set_index("area_code")
    neet = _table("neet_16_17_2021_2024.csv")
    periods = neet.groupby("area_code")["time_period"].nunique()
    published = set(periods.index[periods == neet["time_period"].nunique()])
    neet_areas = [_neet_area(code, hierarchy, published) for code in codes]
    unemployment, unemployment_basis = _unemployment_relative(codes, hierarchy, tenure_by_code["households"])
    return pd.DataFrame({
        "area_name": tenure_by_code["area_name"],
        "households": tenure_by_code["households"].astype("int64"),
        "age_16_17": youth["age_16_17"],
        "age_18_24": youth["age_18_24"],
        "share_owner": tenure_by_code["share_owner"],
        "share_social_rent": tenure_by_code["share_social_rent"],
        "share_private_rent": tenure_by_code["share_private_rent"],
        "neet_area_code": [area for area, _ in neet_areas],
        "neet_basis": [basis for _, basis in neet_areas],
        "unemployment_relative": unemployment,
        "unemployment_basis": unemployment_basis,
    }, index=pd.Index(codes, name="area_code"))


def county_districts() -> dict[str, list[str]]:
    """Two-tier counties a run can name, with their districts.

    Returns
    -------
    dict of str to list of str
        County code (E10, a place of :func:`places`) -> its district codes (E07), in
        code order.
    """
    hierarchy = _table("district_to_county.csv").dropna(subset=["county_code"])
    counties = set(_place_table().index)
    return {county: sorted(group["area_code"]) for county, group in hierarchy.groupby("county_code") if county in counties}


def nested_places(codes: Sequence[str]) -> dict[str, str]:
    """Places of a selection that lie inside another place of the same selection.

    A district (E07) lies inside its county (E10): when both are run, the county's
    residents and money already include the district's, so totals over the selection
    count the district within its county, not again.

    Parameters
    ----------
    codes : sequence of str
        ONS codes of the places of a run.

    Returns
    -------
    dict of str to str
        District code -> the code of the county in ``codes`` that contains it.
    """
    chosen = set(codes)
    county = _county_of_district()
    return {c: county[c] for c in codes if county.get(c) in chosen}


@cache
def _county_of_district() -> dict[str, str]:
    """District code -> the code of its county, for the districts in a county; shared, not to be modified."""
    table = _table("district_to_county.csv").dropna(subset="county_code")
    return dict(zip(table["area_code"], table["county_code"]))


_NATIONS = {"W": "Wales", "S": "Scotland", "N": "Northern Ireland"}


def _unknown_place(code: object, table: pd.DataFrame) -> DataError:
    text = str(code)
    if len(text) == 9 and text[0] in _NATIONS and text[1:].isdigit():
        return DataError(
            f"places: {text} is in {_NATIONS[text[0]]}; only English local authorities are covered "
            "(ONS codes starting E06, E07, E08, E09 or E10)"
        )
    names = {name.lower(): c for c, name in table["area_name"].items()}
    near = difflib.get_close_matches(text.lower(), list(names), n=3, cutoff=0.6)
    near_codes = [names[n] for n in near]
    near_codes += difflib.get_close_matches(text, list(table.index), n=3, cutoff=0.8)
    hint = ""
    if near_codes:
        shown = ", ".join(f"{c} {table.at[c, 'area_name']}" for c in dict.fromkeys(near_codes))
        hint = f"; did you mean {shown}?"
    return DataError(
        f"places: unknown place code {code!r}; expected 'pilots', 'all' or ONS codes of "
        f"areas in census2021_tenure.csv and census2021_age_5y.csv{hint}"
    )


def places(codes: Sequence[str] | str) -> pd.DataFrame:
    """Resolve a place selector to one row of Census facts per place.

    Parameters
    ----------
    codes : sequence of str, or str
        ONS codes (a single code may be given as a string), or ``"pilots"`` for the 14
        default PfPP places in ``PILOT_CODES`` order (East Sussex county and Hastings
        district both included), or ``"all"`` for every English district, unitary,
        metropolitan or London borough (E06-E09) that has LILEE 2021, Census tenure and
        Census age data, in code order. Codes on post-2021 boundaries (Cumberland,
        Westmorland and Furness, North Yorkshire, Somerset unitaries) are not in the
        Census tables and so are not places.

    Returns
    -------
    DataFrame
        One row per place in the order given: ``area_code``, ``area_name``,
        ``households`` (int, Census 2021 households), ``age_16_17`` and ``age_18_24``
        (float, usual residents, see ``youth_population``), ``share_owner``,
        ``share_social_rent``, ``share_private_rent`` (fractions summing to 1),
        ``neet_area_code`` (the code whose ``neet_16_17`` figures apply, published for
        every time period 2021-2024) and ``neet_basis``: ``"own"`` (the area itself),
        ``"county"`` (a district: its county, e.g. Hastings E07000062 -> East Sussex
        E10000011), ``"region"`` or ``"england"`` (the area and its county are not
        published in every period: City of London, Isles of Scilly, and North and West
        Northamptonshire, which replaced Northamptonshire in 2022);
        ``unemployment_relative`` (float: the area's ONS model-based unemployment rate,
        16+, mean of 2019-2023, over England's in the same years) and
        ``unemployment_basis``: ``"own"``, ``"districts"`` (a county: the household-weighted
        mean of its districts' relatives, e.g. East Sussex), ``"region"`` (not published:
        Isles of Scilly, City of London, North Northamptonshire) or ``"england"`` (1).

    Raises
    ------
    DataError
        If the selection is empty, repeats a code, or names an unknown code; the
        message names the code and suggests close matches.
    """
    table = _place_table()
    if isinstance(codes, str):
        if codes == "pilots":
            selected = list(PILOT_CODES)
        elif codes == "all":
            selected = list(_all_codes())
        else:
            selected = [codes]
    else:
        selected = list(codes)
    if not selected:
        raise DataError("places: empty selection; expected 'pilots', 'all' or ONS codes")
    for code in selected:
        if not isinstance(code, str) or code not in table.index:
            raise _unknown_place(code, table)
    repeated = pd.Index(selected)[pd.Index(selected).duplicated()]
    if len(repeated):
        raise DataError(f"places: code {repeated[0]!r} is given twice; expected each place once")
    return table.loc[selected].reset_index()
