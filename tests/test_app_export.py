"""The teaching app's data export: the figures on screen for the month shown, as one tidy CSV table."""

from __future__ import annotations

import io
import time

import pandas as pd
import pytest
from widgets import render_page, widgets_with_class

from pfpp_sim.app.address import read_address
from pfpp_sim.app.causes import money_causes
from pfpp_sim.app.differences import differences
from pfpp_sim.app.export import COLUMNS, SERIES, export_csv, export_name
from pfpp_sim.app.session import Settings, money_to_date, rate_series
from pfpp_sim.app.sides import Sides

LUTON = "E06000032"
MONTH = 14


@pytest.fixture(scope="module")
def exported():
    """Luton, seed 3, stop-start funding with carry-over, at month 14: the CSV and the two runs it came from."""
    settings = Settings(place=LUTON, seed=3, scale=0.002).with_preset("stop_start").with_lever("carry_over", True)
    sides = Sides.start(settings)
    sides.run_to(MONTH)
    with sides.reading() as now:
        text = export_csv(now)
        yield pd.read_csv(io.StringIO(text), dtype={"place_code": str, "levers_changed": str}, keep_default_na=False), now.left, now.right, settings


def test_the_table_has_its_columns_and_names_the_run_and_a_link_to_it_on_every_row(exported):
    table, _, _, settings = exported
    assert tuple(table.columns) == COLUMNS
    run = table[["place_code", "place", "seed", "scale", "preset", "levers_changed", "link"]].drop_duplicates()
    assert len(run) == 1
    (row,) = run.to_dict("records")
    assert (row["place_code"], row["place"], row["seed"], row["preset"], row["levers_changed"]) == (LUTON, "Luton", 3, "stop_start", "carry_over=on")
    assert read_address(row["link"]) == (settings, MONTH)


def test_each_sides_charts_are_given_month_by_month_and_the_last_month_is_the_cards(exported):
    table, left, right, _ = exported
    for side, model in (("siloed", left), ("yours", right)):
        rows = table[table["side"] == side]
        expected = {**rate_series(model), **money_to_date(model)}
        awarded = pd.Series([float(r["allocated_gbp"][0]) for r in model.records]).cumsum()
        for name in SERIES:
            values = rows[rows["metric"] == name].sort_values("month")
            assert values["month"].tolist() == list(range(1, MONTH + 1)), name
            wanted = awarded.to_numpy() if name == "allocated_gbp" else expected[name]
            assert values["value"].to_numpy() == pytest.approx(wanted, rel=1e-12), (side, name)
        last = rows[rows["month"] == MONTH].set_index("metric")["value"]
        assert last["returned_gbp"] == pytest.approx(money_to_date(model)["returned_gbp"][-1])
        assert rows[rows["month"] == MONTH]["date"].unique().tolist() == [f"{model.exo.dates[MONTH - 1]:%Y-%m-%d}"]


def test_the_differences_are_the_strips_and_the_causes_are_the_tables(exported):
    table, left, right, _ = exported
    strip = table[table["side"] == "yours_minus_siloed"].set_index("metric")
    for difference in differences(left, right):
        assert strip.loc[difference.key, "value"] == pytest.approx(difference.value), difference.key
        assert strip.loc[difference.key, "unit"] == difference.unit
    for side, model in (("siloed", left), ("yours", right)):
        rows = table[(table["side"] == side) & table["metric"].str.startswith("cause_")].set_index("metric")["value"]
        for key, cause in money_causes(model).items():
            assert rows[f"cause_{key}_count"] == cause.count, key
            if cause.amount_gbp is None:
                assert f"cause_{key}_gbp" not in rows
            else:
                assert rows[f"cause_{key}_gbp"] == pytest.approx(cause.amount_gbp), key
    causes = sum(1 + (c.amount_gbp is not None) for model in (left, right) for c in money_causes(model).values())
    assert len(table) == 2 * len(SERIES) * MONTH + len(strip) + causes, "nothing but the charts, the strip and the causes"


def test_at_month_zero_the_table_has_its_header_and_no_rows():
    sides = Sides.start(Settings(scale=0.002))
    with sides.reading() as now:
        text = export_csv(now)
    assert text == ",".join(COLUMNS) + "\n"


def test_file_names_say_what_was_exported():
    settings = Settings(place=LUTON, seed=12).with_preset("stop_start")
    assert export_name(settings, 27, "data.csv") == "pfpp-luton-seed12-stop_start-month27-data.csv"
    assert export_name(Settings(), 0, "charts.png") == "pfpp-hastings-seed1-pfpp_joined_up-month0-charts.png"


def test_the_pages_csv_download_holds_the_month_on_screen():
    box, context = render_page()
    try:
        widgets_with_class(box, "pfpp-step-year")[0].fire_event("click", {})
        (download,) = [w for w in _all(box) if type(w).__name__ == "FileDownloadWidget"]
        assert download.filename == "pfpp-hastings-seed1-pfpp_joined_up-month12-data.csv"
        assert download.bytes is None, "built only when asked for"
        download.request_download = True
        deadline = time.monotonic() + 30
        while download.bytes is None and time.monotonic() < deadline:
            time.sleep(0.05)
        table = pd.read_csv(io.BytesIO(download.bytes))
        assert table["month"].max() == 12
        assert set(table["side"]) == {"siloed", "yours", "yours_minus_siloed"}
    finally:
        context.close()


def _all(root):
    stack = [root]
    while stack:
        widget = stack.pop()
        yield widget
        slotted = [c for slot in (getattr(widget, "v_slots", None) or []) for c in (slot.get("children") or [])]
        stack.extend(c for c in [*(getattr(widget, "children", None) or []), *slotted] if hasattr(c, "keys"))
