"""The teaching app's 'why the money differs' table: what happened to each side's money over the whole run, counted."""

from __future__ import annotations

import re
from html import unescape

import pytest
from widgets import render_page, widgets_with_class

from pfpp_sim.app.causes import ALWAYS_SHOWN, CAUSES, Cause, causes_html, event_causes, money_causes
from pfpp_sim.app.narrative import happenings, money, recent_sentences
from pfpp_sim.app.session import Settings, baseline_scenario, chosen_scenario, money_to_date, start_run

HASTINGS = "E07000062"


@pytest.fixture(scope="module")
def sides():
    """Hastings at month 27, siloed and joined up: two April deadlines have passed."""
    settings = Settings(place=HASTINGS)
    return (start_run(baseline_scenario(settings), seed=1, months=27), start_run(chosen_scenario(settings), seed=1, months=27))


def test_money_awarded_by_each_route_adds_up_to_all_the_money_awarded_to_date(sides):
    for model in sides:
        causes = money_causes(model)
        routes = [causes[k] for k in ("formula", "won", "pooled", "carried_in")]
        assert causes["awarded"].count == len(model.awards) == sum(c.count for c in routes)
        assert causes["awarded"].amount_gbp == pytest.approx(sum(c.amount_gbp for c in routes))
        assert causes["awarded"].amount_gbp == pytest.approx(sum(float(r["allocated_gbp"][0]) for r in model.records))
    assert money_causes(sides[0])["pooled"].count == 0 and money_causes(sides[1])["pooled"].count > 0


def test_clawbacks_are_counted_over_the_whole_run_not_only_the_last_six_months(sides):
    left = sides[0]
    causes = money_causes(left)
    clawbacks = [h for h in happenings(left.events) if h.kind == "clawback"]
    assert causes["clawback"].count == len(clawbacks) > 0
    assert causes["clawback"].amount_gbp == pytest.approx(money_to_date(left)["returned_gbp"][-1])
    recent = [s for s in recent_sentences(left.events, left.exo.dates, month=left.month, window_months=6, limit=100) if "clawed back" in s]
    assert len(recent) < causes["clawback"].count, "the April 2022 deadline is older than six months at month 27"


def test_every_missed_window_and_bid_is_counted_and_all_unawarded_money_is_put_down_to_a_cause(sides):
    for model in sides:
        causes = money_causes(model)
        found = happenings(model.events)
        for kind in ("missed_window", "bid_failed", "bid_scaled_down", "discontinued"):
            assert causes[kind].count == sum(h.kind == kind for h in found), kind
        unawarded = sum(h.amount_gbp for h in found if h.kind == "not_awarded")
        assert sum(causes[k].amount_gbp for k in ("missed_window", "bid_failed", "not_bid")) == pytest.approx(unawarded)
        assert causes["bids"].count == round(sum(float(r["bids"][0]) for r in model.records))
        assert causes["bids"].amount_gbp == pytest.approx(sum(float(r["bid_cost_gbp"][0]) for r in model.records))
    assert money_causes(sides[0])["missed_window"].count > 0, "siloed Hastings misses windows after streams are discontinued"


def test_an_unawarded_pot_is_put_down_to_the_places_event_for_the_same_stream_and_month():
    counts, amounts = event_causes([
        (3, "Hastings missed the DfE careers window: no contact yet"),
        (3, "DfE careers: GBP 1,000 of a GBP 1,000 pot not awarded (too few bids)"),
        (3, "DWP youth_hubs: GBP 200 of a GBP 200 pot not awarded (too few bids)"),  # no event of the place: not bid for
        (4, "DfE careers: Hastings bid failed"),
        (4, "DfE careers: GBP 50 of a GBP 50 pot not awarded (too few bids)"),
        (5, "DfE careers: Hastings bid scaled down to GBP 300 of GBP 400"),
        (5, "DfE careers: GBP 7 of a GBP 7 pot not awarded (too few bids)"),  # a second grant, after the one that won
        (16, "DfE clawed back GBP 2,500 unspent on careers from Hastings"),
        (17, "DfE discontinued careers; a replacement stream opens after 12 months"),
    ])
    assert counts == {"missed_window": 1, "bid_failed": 1, "bid_scaled_down": 1, "not_bid": 2, "discontinued": 1, "clawback": 1}
    assert amounts == {"missed_window": 1_000, "bid_failed": 50, "bid_scaled_down": 300, "not_bid": 207, "clawback": 2_500}


def test_a_run_of_several_places_is_refused():
    model = start_run(baseline_scenario(Settings(place=HASTINGS, scale=0.002)).with_overrides({"run.places": [HASTINGS, "E06000032"]}), seed=1, months=0)
    with pytest.raises(ValueError, match="one place.*has 2"):
        money_causes(model)


def cells(html: str) -> dict[str, tuple[str, str]]:
    """Each row of the table by key: the siloed side's cell and yours."""
    rows = re.findall(r"<tr class='pfpp-cause-(\w+)[^']*'>.*?<td class='pfpp-cause-siloed'>(.*?)</td><td class='pfpp-cause-yours'>(.*?)</td>", html)
    return {key: (unescape(left), unescape(right)) for key, left, right in rows}


def test_the_table_shows_both_sides_and_only_the_causes_that_happened_on_either():
    def side(**happened: tuple[int, float | None]) -> dict[str, Cause]:
        return {k: Cause(k, CAUSES[k], *happened.get(k, (0, None if k == "discontinued" else 0.0))) for k in CAUSES}

    left = side(awarded=(3, 4_410_000.0), formula=(3, 4_410_000.0), clawback=(2, 315_085.0), discontinued=(1, None))
    right = side(awarded=(2, 7_180_000.0), pooled=(2, 7_180_000.0))
    shown = cells(causes_html(left, right, period="April 2021 to June 2023"))
    assert list(shown) == ["awarded", "formula", "pooled", "missed_window", "discontinued", "clawback"]
    assert set(ALWAYS_SHOWN) <= set(shown)
    assert shown["awarded"] == ("3 · £4.41m", "2 · £7.18m")
    assert shown["clawback"] == ("2 · £315,085", "none")
    assert shown["discontinued"] == ("1", "none")


def test_the_page_shows_both_sides_causes_for_the_month_on_screen():
    box, _ = render_page()
    for _ in range(2):
        widgets_with_class(box, "pfpp-step-year")[0].fire_event("click", {})
    (table,) = widgets_with_class(box, "pfpp-causes")
    assert "April 2021 to March 2023" in table.unsafe_innerHTML
    settings = Settings()
    runs = [start_run(scenario(settings), seed=settings.seed, months=24) for scenario in (baseline_scenario, chosen_scenario)]
    shown = cells(table.unsafe_innerHTML)
    for i, run in enumerate(runs):
        causes = money_causes(run)
        assert shown["awarded"][i] == f"{causes['awarded'].count} · {money(causes['awarded'].amount_gbp)}"
        assert shown["clawback"][i] == causes["clawback"].text
    assert shown["clawback"][0] != "none" and shown["clawback"][1] == "none", "joined up carries money over at the April deadline"
    widgets_with_class(box, "pfpp-preset-siloed_baseline")[0].fire_event("click", {})
    shown = cells(widgets_with_class(box, "pfpp-causes")[0].unsafe_innerHTML)
    assert all(left == right for left, right in shown.values()), shown
