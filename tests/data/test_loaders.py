"""Behaviour of the vendored-data loaders in ``pfpp_sim.data``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfpp_sim import data
from pfpp_sim.errors import DataError

ALL_CODES = tuple(data.places("all")["area_code"])


def test_lilee_rates_are_fractions_for_every_area():
    lilee = data.fuel_poverty()
    assert set(lilee["data_year"]) == {2019, 2020, 2021} and lilee["data_year"].dtype == np.int64
    assert lilee.index.equals(pd.RangeIndex(len(lilee)))  # successor rows numbered on
    assert lilee["rate"].between(0, 1).all()
    implied = lilee["fuel_poor_households"] / lilee["households"]
    np.testing.assert_allclose(lilee["rate"], implied, atol=1e-3)
    england_2021 = lilee[(lilee["area_code"] == data.ENGLAND) & (lilee["data_year"] == 2021)]
    assert england_2021["rate"].item() == pytest.approx(0.131, abs=5e-4)  # EVIDENCE E21


def test_every_authority_has_a_lilee_rate_in_every_data_year():
    lilee = data.fuel_poverty().set_index(["area_code", "data_year"])
    missing = [(c, y) for c in ALL_CODES for y in (2019, 2020, 2021) if (c, y) not in lilee.index]
    assert missing == []


def test_north_northamptonshire_2019_sums_the_four_districts_it_replaced():
    lilee = data.fuel_poverty()
    year = lilee[lilee["data_year"] == 2019].set_index("area_code")
    districts = year.loc[["E07000150", "E07000152", "E07000153", "E07000156"]]  # Corby, East Northants, Kettering, Wellingborough
    north = year.loc["E06000061"]
    assert north["households"] == districts["households"].sum()
    assert north["fuel_poor_households"] == districts["fuel_poor_households"].sum()
    assert north["rate"] == pytest.approx(districts["fuel_poor_households"].sum() / districts["households"].sum())
    assert north["area_name"] == "North Northamptonshire"
    assert (lilee["area_code"] == "E06000061").sum() == 3  # once a year: published 2020 and 2021 rows are kept as they are


def test_lihc_rows_stay_apart_from_lilee_across_the_series_break():
    lihc = data.fuel_poverty("LIHC")
    assert lihc["data_year"].max() == 2018
    assert data.fuel_poverty("LILEE")["data_year"].min() == 2019
    assert set(data.PILOT_CODES) | {data.ENGLAND} == set(lihc["area_code"])


def test_unknown_fuel_poverty_measure_names_the_measure():
    with pytest.raises(DataError, match="LIHC10"):
        data.fuel_poverty("LIHC10")


# Published values from DfE's pilot extract dfe_nccis_neet_16_17_pfpp_las_2021_2024.csv
# (NEET_percent, Notknown_percent, NEET_not_known_percent).
@pytest.mark.parametrize(
    ("code", "year", "neet", "not_known", "combined"),
    [
        ("E10000011", 2021, 3.9, 1.5, 5.4),  # East Sussex
        ("E08000025", 2021, 2.8, 5.7, 8.5),  # Birmingham
        ("E09000012", 2024, 2.3, 0.9, 3.3),  # Hackney
        ("E92000001", 2022, 2.6, 2.2, 4.7),  # England
    ],
)
def test_pilot_neet_matches_published_extract(code, year, neet, not_known, combined):
    neet_table = data.neet_16_17()
    row = neet_table[(neet_table["area_code"] == code) & (neet_table["time_period"] == year)]
    assert len(row) == 1
    assert row["neet_rate"].item() == pytest.approx(neet / 100)
    assert row["not_known_rate"].item() == pytest.approx(not_known / 100)
    assert row["neet_not_known_rate"].item() == pytest.approx(combined / 100)


def test_neet_rates_are_fractions_and_areas_appear_once_a_year():
    neet_table = data.neet_16_17()
    rates = neet_table[["neet_rate", "not_known_rate", "neet_not_known_rate"]]
    assert ((rates >= 0) & (rates <= 1) | rates.isna()).all().all()
    assert not neet_table.duplicated(["area_code", "time_period"]).any()
    assert set(neet_table["time_period"]) == {2021, 2022, 2023, 2024}


def test_tenure_shares_sum_to_one():
    table = data.tenure()
    shares = table[["share_owner", "share_social_rent", "share_private_rent"]]
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    counts = table[["owner", "social_rent", "private_rent"]].sum(axis=1)
    assert (counts == table["households"]).all()
    assert table["area_code"].is_unique


def test_youth_population_takes_two_fifths_of_the_15_to_19_band():
    # Birmingham, Census 2021 TS007A: 15-19 = 86,440; 20-24 = 93,243.
    youth = data.youth_population().set_index("area_code").loc["E08000025"]
    assert youth["age_16_17"] == pytest.approx(0.4 * 86_440)
    assert youth["age_18_24"] == pytest.approx(0.4 * 86_440 + 93_243)
    assert youth["age_16_24"] == pytest.approx(youth["age_16_17"] + youth["age_18_24"])


def test_pilots_are_the_fourteen_default_places_in_order():
    pilots = data.places("pilots")
    assert tuple(pilots["area_code"]) == data.PILOT_CODES
    assert len(pilots) == 14
    assert pilots.set_index("area_code").at["E07000062", "area_name"] == "Hastings"


def test_hastings_uses_the_east_sussex_neet_figure():
    hastings = data.places(["E07000062"]).iloc[0]
    assert hastings["neet_area_code"] == "E10000011"
    assert hastings["neet_basis"] == "county"
    assert set(data.places("pilots").query("area_code != 'E07000062'")["neet_basis"]) == {"own"}


def test_places_without_published_neet_fall_back_to_their_region():
    city = data.places("E09000001").iloc[0]  # City of London: not published by DfE
    assert (city["neet_area_code"], city["neet_basis"]) == ("E12000007", "region")


def test_every_place_has_a_neet_figure_in_every_period():
    neet_table = data.neet_16_17()
    for code in data.places("all")["neet_area_code"].unique():
        rows = neet_table[neet_table["area_code"] == code]
        assert sorted(rows["time_period"]) == [2021, 2022, 2023, 2024], code


def test_unknown_place_code_names_the_code():
    with pytest.raises(DataError, match="E0700062") as caught:
        data.places(["E08000025", "E0700062"])
    assert "E07000062" in str(caught.value)  # suggests the close match


def test_place_name_instead_of_code_suggests_the_code():
    with pytest.raises(DataError, match="E07000062 Hastings"):
        data.places("Hastings")


def test_repeated_place_code_is_rejected():
    with pytest.raises(DataError, match="E09000012"):
        data.places(["E09000012", "E09000012"])


def test_band_shares_fall_back_to_england_for_counties():
    east_sussex = data.energy_efficiency_bands("E10000011")
    assert east_sussex.source == "england_E23_assumed_split" and east_sussex.shares.dtype == np.float64
    np.testing.assert_allclose(east_sussex.shares, [0.005, 0.12, 0.275, 0.47, 0.10, 0.024, 0.006])
    assert east_sussex.shares[:3].sum() == pytest.approx(0.40)  # EVIDENCE E23: A-C 40%


def test_district_band_shares_come_from_its_epc_lodgements():
    hastings = data.energy_efficiency_bands("E07000062")
    assert hastings.source == "epc_lodgements_2013_2023" and hastings.shares.dtype == np.float64
    assert hastings.shares.shape == (7,)
    assert hastings.shares.sum() == pytest.approx(1.0)
    assert (hastings.shares >= 0).all()


def test_district_band_shares_are_its_lodgements_of_the_ten_years_to_september_2023_over_their_sum():
    import csv
    from importlib import resources

    with resources.files("pfpp_sim.data").joinpath("tables", "epc_lodgements_by_band.csv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["area_code"] == "E07000062"]
    windows = {r["window_start"] for r in rows}
    assert len(windows) > 1, "the table holds a later window too"
    counts = {r["band"]: float(r["lodgements"]) for r in rows if r["window_start"] == "2013-10-01"}
    expected = np.array([counts[band] for band in "ABCDEFG"]) / sum(counts.values())
    np.testing.assert_allclose(data.energy_efficiency_bands("E07000062").shares, expected, rtol=1e-12)


def test_a_missing_packaged_table_is_named():
    with pytest.raises(DataError) as info:
        data._table("no_such_table.csv")
    assert str(info.value) == "no_such_table.csv: packaged data table not found in pfpp_sim/data/tables"


def test_band_shares_reject_unknown_codes():
    with pytest.raises(DataError, match="W06000015.*expected the ONS code of an English area$"):
        data.energy_efficiency_bands("W06000015")


def test_price_path_uses_epg_when_cap_above_guarantee():
    path = data.energy_price_cap().set_index("effective_date")
    epg = (path.index >= "2022-10-01") & (path.index <= "2023-06-30")
    assert (path.loc[epg, "cap_gbp_per_year"] > 2500).all()
    assert (path.loc[epg, "paid_gbp_per_year"] == 2500).all()
    assert (path.loc[~epg, "paid_gbp_per_year"] == path.loc[~epg, "cap_gbp_per_year"]).all()
    assert path.at[pd.Timestamp("2023-01-01"), "cap_gbp_per_year"] == 4279


def test_price_path_runs_from_january_2019_to_october_2025_in_date_order():
    dates = data.energy_price_cap()["effective_date"]
    assert dates.is_monotonic_increasing
    assert (dates.iloc[0], dates.iloc[-1]) == (pd.Timestamp("2019-01-01"), pd.Timestamp("2025-10-01"))
    assert data.energy_price_cap().set_index("effective_date").at[
        pd.Timestamp("2020-04-01"), "cap_gbp_per_year"
    ] == 1162  # as announced (E09)


def test_support_payments_add_up_to_the_announced_totals():
    support = data.household_support()
    totals = support.groupby("scheme")["amount_gbp"].sum()
    assert totals["energy_bills_support_scheme"] == 400  # E17
    assert totals["cost_of_living_payment_2022"] == 650  # E18
    assert totals["cost_of_living_payment_2023_24"] == 900  # E19
    assert (support["end_date"] >= support["start_date"]).all()
    means_tested = support["eligibility"] == "means_tested"
    assert support.loc[means_tested, "note"].str.contains("approximate").all()


def test_changing_a_returned_table_does_not_change_the_next_read():
    first = data.tenure()
    first.loc[:, "households"] = -1
    assert (data.tenure()["households"] > 0).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(ALL_CODES), min_size=1, max_size=25, unique=True))
def test_places_returns_exactly_the_codes_asked_for_in_order(codes):
    table = data.places(codes)
    assert list(table["area_code"]) == codes
    shares = table[["share_owner", "share_social_rent", "share_private_rent"]]
    assert ((shares >= 0) & (shares <= 1)).all().all()
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    assert (table["households"] > 0).all()


def test_modelled_unemployment_rates_are_fractions_for_english_areas_2015_to_2023():
    table = data.modelled_unemployment()
    assert set(table["year"]) == set(range(2015, 2024))
    assert table["area_code"].str.match(r"^E(0[6-9]|12|92)\d{6}$").all()
    rates = table["rate"].dropna()
    assert rates.between(0.005, 0.2).all()
    assert not table.duplicated(["area_code", "year"]).any()
    england = table[table["area_code"] == data.ENGLAND].set_index("year")["rate"]
    assert england[2022] == pytest.approx(0.036)


@pytest.mark.parametrize("code", ["E06000032", "E06000047"])  # Luton; County Durham, published without limits
def test_a_place_s_unemployment_relative_is_its_mean_rate_2019_to_2023_over_englands(code):
    table = data.modelled_unemployment()
    recent = table[table["year"].between(2019, 2023)].groupby("area_code")["rate"].mean()  # every year with a rate
    place = data.places([code]).iloc[0]
    assert place["unemployment_basis"] == "own"
    assert place["unemployment_relative"] == pytest.approx(recent[code] / recent[data.ENGLAND])


def test_a_county_takes_the_household_weighted_mean_of_its_districts_unemployment_relative():
    county = data.places(["E10000011"]).iloc[0]  # East Sussex: not published as a county
    assert county["unemployment_basis"] == "districts"
    districts = ["E07000061", "E07000062", "E07000063", "E07000064", "E07000065"]
    rows = data.places(districts)
    expected = np.average(rows["unemployment_relative"], weights=rows["households"])
    assert county["unemployment_relative"] == pytest.approx(expected)


def test_places_without_a_modelled_unemployment_rate_take_their_regions():
    table = data.modelled_unemployment()
    recent = table[table["year"].between(2019, 2023)].groupby("area_code")["rate"].mean()
    for code, region in (("E06000061", "E12000004"), ("E09000001", "E12000007")):
        place = data.places([code]).iloc[0]
        assert place["unemployment_basis"] == "region", code
        assert place["unemployment_relative"] == pytest.approx(recent[region] / recent[data.ENGLAND])


def test_every_place_has_a_positive_unemployment_relative_and_england_is_one():
    places = data.places("all")
    assert (places["unemployment_relative"] > 0).all()
    assert places["unemployment_relative"].notna().all()
    assert data.places([data.ENGLAND]).iloc[0]["unemployment_relative"] == pytest.approx(1.0)


def test_modelled_unemployment_gives_the_published_percentages_and_limits_as_fractions():
    table = data.modelled_unemployment()
    assert list(table.columns) == ["area_code", "area_name", "year", "rate", "low", "high"]
    luton = table[(table["area_code"] == "E06000032") & (table["year"] == 2015)].iloc[0]
    assert luton["area_name"] == "Luton"
    assert (luton["rate"], luton["low"], luton["high"]) == pytest.approx((0.052, 0.041, 0.063))  # 5.2 (4.1-6.3) %


def test_an_area_with_no_rate_of_its_own_its_districts_or_its_region_takes_englands_unemployment():
    hierarchy = pd.DataFrame({"county_code": [None], "region_code": ["E12999999"]}, index=["E07999999"])
    households = pd.Series({"E07999999": 1000})
    assert data._unemployment_relative(["E07999999"], hierarchy, households) == ([1.0], ["england"])


def test_neet_figures_come_from_the_place_then_its_county_then_its_region_then_england():
    hierarchy = data._table("district_to_county.csv").set_index("area_code")
    east_sussex, south_east = "E10000011", "E12000008"
    assert data._neet_area("E07000062", hierarchy, {"E07000062", east_sussex}) == ("E07000062", "own")
    assert data._neet_area("E07000062", hierarchy, {east_sussex, south_east}) == (east_sussex, "county")
    assert data._neet_area("E07000062", hierarchy, {south_east}) == (south_east, "region")
    assert data._neet_area("E07000062", hierarchy, set()) == (data.ENGLAND, "england")
    # A county has no row of its own: its region is its districts'.
    assert data._neet_area(east_sussex, hierarchy, {south_east}) == (south_east, "region")
    assert data._neet_area(east_sussex, hierarchy, set()) == (data.ENGLAND, "england")
    assert data._neet_area("E07999999", hierarchy, set()) == (data.ENGLAND, "england")  # in no county or region


def test_a_district_run_with_its_county_is_nested_in_it():
    assert data.nested_places(["E10000011", "E07000062", "E06000032", "E07000061"]) == {
        "E07000062": "E10000011", "E07000061": "E10000011",
    }
    assert data.nested_places(["E07000062", "E07000061"]) == {}


def test_an_empty_place_selection_is_rejected():
    with pytest.raises(DataError, match="^places: empty selection; expected 'pilots', 'all' or ONS codes$"):
        data.places([])


@pytest.mark.parametrize("code, nation", [("W06000015", "Wales"), ("S12000033", "Scotland"), ("N09000003", "Northern Ireland")])
def test_a_code_of_another_nation_is_named_as_outside_england(code, nation):
    expected = f"places: {code} is in {nation}; only English local authorities are covered (ONS codes starting E06, E07, E08, E09 or E10)"
    with pytest.raises(DataError) as caught:
        data.places([code])
    assert str(caught.value) == expected


@pytest.mark.parametrize("code", ["E07999999", "WX6000015", "W060000150"])
def test_a_code_that_only_looks_like_another_nation_s_is_an_unknown_place(code):
    with pytest.raises(DataError, match=f"^places: unknown place code '{code}'"):
        data.places([code])


@pytest.mark.parametrize("text, hint", [
    ("ZZZZ", ""),
    ("E0600", ""),  # no code close enough: 0.71 alike at most
    ("Northampton", "; did you mean E06000045 Southampton, E08000031 Wolverhampton, E06000062 West Northamptonshire?"),
    ("E0900001", "; did you mean E09000031 Waltham Forest, E09000021 Kingston upon Thames, E09000019 Islington?"),
])
def test_an_unknown_place_suggests_at_most_three_close_names_or_codes(text, hint):
    with pytest.raises(DataError) as caught:
        data.places([text])
    assert str(caught.value) == (
        f"places: unknown place code '{text}'; expected 'pilots', 'all' or ONS codes of areas in "
        f"census2021_tenure.csv and census2021_age_5y.csv{hint}"
    )


@pytest.mark.parametrize("loader, name, column", [
    (data.energy_price_cap, "energy_price_cap.csv", "effective_date"),
    (data.household_support, "household_support.csv", "end_date"),
    (data.median_income, "median_income_fye2020_2024.csv", "start_date"),
])
def test_a_date_not_written_as_an_iso_date_names_its_table_and_column(monkeypatch, loader, name, column):
    read = data._table

    def with_a_uk_date(table: str) -> pd.DataFrame:
        frame = read(table).copy()
        if table == name:
            frame[column] = "01/04/2020"  # a date pandas would read if left to guess the format
        return frame

    monkeypatch.setattr(data, "_table", with_a_uk_date)
    with pytest.raises(DataError) as caught:
        loader()
    assert str(caught.value) == f"{name}: column '{column}' has a value that is not an ISO date"


def test_neet_table_has_its_columns_with_whole_years():
    neet = data.neet_16_17()
    assert list(neet.columns) == ["area_code", "area_name", "time_period", "cohort", "neet_rate", "not_known_rate", "neet_not_known_rate"]
    assert neet["time_period"].dtype == np.int64
    england = neet[(neet["area_code"] == data.ENGLAND) & (neet["time_period"] == 2021)].iloc[0]
    assert (england["area_name"], england["cohort"]) == ("England", 1181088.0)


def test_gdhi_gives_one_float_per_area_numbered_afresh():
    gdhi = data.gdhi_per_head(2015)
    assert list(gdhi.columns) == ["area_code", "area_name", "gdhi_per_head_gbp"]
    assert gdhi.index.equals(pd.RangeIndex(len(gdhi)))
    assert gdhi["area_code"].is_unique and data.gdhi_per_head(2021)["area_code"].is_unique
    assert gdhi["gdhi_per_head_gbp"].dtype == np.float64
    hastings = gdhi.set_index("area_code").loc["E07000062"]
    assert (hastings["area_name"], hastings["gdhi_per_head_gbp"]) == ("Hastings", 15234.0)


@pytest.mark.parametrize("year", [2014, 2024, 2021.0, True, "2021"])
def test_gdhi_year_must_be_an_integer_of_the_packaged_range(year):
    with pytest.raises(DataError) as caught:
        data.gdhi_per_head(year)
    assert str(caught.value) == f"gdhi_per_head: year = {year!r}; expected an integer 2015-2023"


def test_median_income_is_one_float_a_year_in_year_order_numbered_afresh():
    income = data.median_income()
    assert list(income.columns) == ["fye", "financial_year", "start_date", "median_gbp_per_year", "measure", "evidence_key", "note"]
    assert income.index.equals(pd.RangeIndex(len(income)))
    assert income["median_gbp_per_year"].dtype == np.float64
    assert list(income["fye"]) == [2020, 2021, 2022, 2023, 2024]
    assert income.at[0, "median_gbp_per_year"] == 30500.0
