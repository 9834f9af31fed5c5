"""The teaching app without a browser: serving rules, narrative, money flows, charts, page logic."""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict
from itertools import pairwise

import pandas as pd
import pytest
from widgets import render_page, widgets_with_class

from pfpp_sim.app import page, serve
from pfpp_sim.app.charts import Series, flow_chart, line_chart, nice_ticks
from pfpp_sim.app.flows import Link, Node, funding_flows
from pfpp_sim.app.frame import build_frame, shared_flow_scale
from pfpp_sim.app.narrative import happenings, label, money, recent_sentences
from pfpp_sim.app.server import is_loopback
from pfpp_sim.app.session import (
    Settings,
    baseline_scenario,
    chosen_scenario,
    money_to_date,
    parse_seed,
    preset,
    preset_order,
    rate_series,
    run_differences,
    start_run,
)
from pfpp_sim.app.sides import Now
from pfpp_sim.errors import PfppError
from pfpp_sim.scenario import INTERVENTION_KEYS, list_presets

HASTINGS = "E07000062"


@pytest.fixture(scope="module")
def baseline_run():
    """Hastings under siloed funding for 26 months: two financial-year deadlines have passed."""
    return start_run(baseline_scenario(Settings(place=HASTINGS)), seed=1, months=26)


@pytest.fixture(scope="module")
def joined_up_run():
    return start_run(chosen_scenario(Settings(place=HASTINGS)), seed=1, months=26)


def flows_of(model):
    domains = {k: model.scenario.interventions.get(k).domain for k in INTERVENTION_KEYS}
    return funding_flows(model.awards, domains=domains, place_names=model.population.places.names)


# ------------------------------------------------------------------- serving


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org"])
def test_serve_refuses_a_non_loopback_host_unless_remote_is_allowed(host):
    with pytest.raises(PfppError, match="refusing to serve") as caught:
        serve(host, allow_remote=False)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.1.1", "localhost", "::1", "[::1]"])
def test_loopback_hosts_are_recognised(host):
    assert is_loopback(host)


def test_serve_refuses_a_port_outside_the_tcp_range():
    with pytest.raises(PfppError, match="not a TCP port"):
        serve("127.0.0.1", 70_000)


# ----------------------------------------------------------------- narrative


def test_narrative_reports_clawbacks_with_month_calendar_month_and_amount(baseline_run):
    sentences = recent_sentences(baseline_run.events, baseline_run.exo.dates, month=14, window_months=6, limit=20)
    clawbacks = [s for s in sentences if "clawed back" in s]
    assert clawbacks, sentences
    assert re.fullmatch(r"Month 13 \(Apr 2022\): \S+ clawed back £[\d,]+ unspent on .+ from Hastings at the deadline", clawbacks[0])


def test_narrative_lists_newest_first_and_only_recent_months(baseline_run):
    sentences = recent_sentences(baseline_run.events, baseline_run.exo.dates, month=26, window_months=3, limit=50)
    months = [int(re.match(r"Month (\d+) ", s).group(1)) for s in sentences]
    assert months == sorted(months, reverse=True)
    assert all(24 <= m <= 26 for m in months)


def test_every_event_of_a_run_is_recognised(baseline_run, joined_up_run):
    for run in (baseline_run, joined_up_run):
        assert {h.kind for h in happenings(run.events)} <= {
            "clawback", "discontinued", "missed_window", "bid_failed", "bid_scaled_down", "not_awarded"
        }


def test_narrative_reads_a_scaled_down_bid_and_an_unawarded_pot():
    (scaled, unawarded) = happenings([
        (8, "DESNZ home_upgrade: Hastings bid scaled down to GBP 312,500 of GBP 3,480,000"),
        (8, "DHSC youth_wellbeing_grants: GBP 45,210 of a GBP 60,000 pot not awarded (too few bids)"),
    ])
    assert (scaled.kind, scaled.amount_gbp) == ("bid_scaled_down", 312_500)
    assert scaled.sentence == "Hastings's bid to DESNZ Home upgrade won £312,500 of the £3.48m asked for: the pot ran out"
    assert (unawarded.kind, unawarded.amount_gbp) == ("not_awarded", 45_210)
    assert unawarded.sentence == "DHSC left £45,210 of its £60,000 Youth wellbeing grants pot unawarded: too few councils bid"


def test_labels_and_money_read_as_a_room_would():
    assert label("home_upgrade") == "Home upgrade"
    assert label("HomeOffice") == "Home Office"
    assert label("DfE") == "DfE"
    assert money(92_925.4) == "£92,925"
    assert money(1_254_000) == "£1.25m"


# --------------------------------------------------------------- money flows


@pytest.mark.parametrize("run_name", ["baseline_run", "joined_up_run"])
def test_money_in_the_flow_graph_balances_at_every_node(run_name, request):
    run = request.getfixturevalue(run_name)
    nodes, links = flows_of(run)
    inflow, outflow = defaultdict(int), defaultdict(int)
    for link in links:
        assert link.value_p > 0
        outflow[link.source] += link.value_p
        inflow[link.target] += link.value_p
    kinds = {n.key: n.kind for n in nodes}
    assert links and set(inflow) | set(outflow) == set(kinds), "every node has money through it, and every link joins nodes"
    for key, kind in kinds.items():
        if kind == "department":
            assert inflow[key] == 0
        elif kind in ("domain", "overhead", "returned", "held"):
            assert outflow[key] == 0
        else:
            assert inflow[key] == outflow[key], key


def test_flow_graph_totals_match_the_award_ledgers(baseline_run):
    _, links = flows_of(baseline_run)
    awards = baseline_run.awards
    into = defaultdict(int)
    for link in links:
        into[link.target.split(":")[0] if link.target.startswith("domain:") else link.target] += link.value_p
    assert sum(link.value_p for link in links if link.source.startswith("department:")) == sum(a.allocated_p for a in awards)
    assert into["domain"] == sum(a.delivered_p for a in awards)
    assert into["sink:returned"] == sum(a.returned_p for a in awards) > 0
    assert into["sink:held"] == sum(a.held_total_p for a in awards)
    assert into["sink:overhead"] == sum(a.overhead_p for a in awards)


def test_flow_graph_runs_department_programme_council_intervention_outcome(joined_up_run):
    nodes, _ = flows_of(joined_up_run)
    columns = defaultdict(set)
    for node in nodes:
        columns[node.column].add(node.kind)
    assert columns[0] == {"department"}
    assert columns[1] == {"programme"}
    assert columns[2] == {"council"}
    assert "intervention" in columns[3]
    assert "domain" in columns[4]
    assert "Pooled budget" in {n.label for n in nodes}  # the joined-up preset pools once trust allows


def test_flow_chart_labels_nodes_with_their_money(baseline_run):
    nodes, links = flows_of(baseline_run)
    svg = flow_chart(nodes, links, notes=["Month 25 (Apr 2023): DWP clawed back £1"])
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "Hastings" in svg and "Returned" in svg and "Month 25 (Apr 2023)" in svg
    assert "No money awarded yet" in flow_chart([], [])


def node_heights(svg: str) -> dict[str, float]:
    """Each funding-flow node's bar height in pixels, by node key."""
    return {key: float(h) for h, key in re.findall(r"<rect [^>]*height='([\d.]+)'[^>]*data-node='([^']+)'", svg)}


def test_one_scale_draws_the_same_amount_at_the_same_height_on_both_sides_and_more_money_taller():
    def graph(amounts_p: dict[str, int]) -> tuple[list[Node], list[Link]]:
        nodes = [Node(f"department:{d}", d, 0, "department") for d in amounts_p] + [Node("council:0", "Hastings", 2, "council")]
        nodes += [Node(f"programme:{d}", d, 1, "programme") for d in amounts_p]
        links = [Link(f"department:{d}", f"programme:{d}", v, "allocated") for d, v in amounts_p.items()]
        links += [Link(f"programme:{d}", "council:0", v, "allocated") for d, v in amounts_p.items()]
        return nodes, links

    left, right = graph({"DfE": 441_000_00}), graph({"DfE": 441_000_00, "DWP": 277_000_00})
    scale = shared_flow_scale([left, right])
    drawn = [node_heights(flow_chart(*g, scale=scale)) for g in (left, right)]
    assert drawn[0]["department:DfE"] == drawn[1]["department:DfE"]
    assert drawn[1]["council:0"] > drawn[0]["council:0"]
    assert drawn[1]["council:0"] == pytest.approx(drawn[0]["council:0"] * 718 / 441, abs=0.02)
    alone = [node_heights(flow_chart(*g)) for g in (left, right)]  # each filling its own height, as both sides once were
    assert alone[0]["council:0"] >= alone[1]["council:0"], "less money drawn at least as tall: why one scale is needed"


def test_the_apps_two_funding_flows_share_one_scale(baseline_run, joined_up_run):
    frame = build_frame(Now(Settings(place=HASTINGS), baseline_run, joined_up_run, 0))
    bars = []  # (pixels, pence) of every bar of both diagrams
    for run, side in ((baseline_run, frame.left), (joined_up_run, frame.right)):
        nodes, links = flows_of(run)
        heights = node_heights(side.flow_svg)
        value = {n.key: max(sum(k.value_p for k in links if k.source == n.key), sum(k.value_p for k in links if k.target == n.key)) for n in nodes}
        assert set(heights) == set(value)
        bars += [(heights[key], value[key]) for key in heights]
    pixels, pence = max(bars)
    for height, amount in bars:  # heights are printed to 0.01 px; the thinnest bars are drawn 1.5 px
        assert height == pytest.approx(max(amount * pixels / pence, 1.5), abs=0.011), "one pixel scale for every bar of both diagrams"
    councils = [node_heights(side.flow_svg)["council:0"] for side in (frame.left, frame.right)]
    awarded = [sum(a.allocated_p for a in run.awards) for run in (baseline_run, joined_up_run)]
    assert awarded[0] != awarded[1]
    assert (councils[0] < councils[1]) == (awarded[0] < awarded[1])


# --------------------------------------------------------------------- charts


@pytest.mark.parametrize(("low", "high"), [(13.2, 16.9), (0.0, 1_234_567.0), (0.0, 0.004), (5.0, 5.0)])
def test_nice_ticks_are_round_evenly_spaced_and_cover_the_range(low, high):
    ticks = nice_ticks(low, high)
    assert 2 <= len(ticks) <= 8
    steps = {round(b - a, 9) for a, b in pairwise(ticks)}
    assert len(steps) == 1
    assert ticks[0] <= low and ticks[-1] >= high
    assert ticks[0] > low - steps.pop(), "no more than one step below the range"


def test_line_chart_draws_one_line_per_series_and_names_the_latest_values(baseline_run):
    rates = rate_series(baseline_run)
    svg = line_chart(
        "Fuel poverty", "% of households",
        [Series("Siloed baseline", rates["fuel_poverty_rate"], "#F46A25")],
        dates=baseline_run.exo.dates, limits=(10.0, 20.0),
    )
    assert svg.count("<polyline") == 1
    assert "% of households" in svg
    assert f"Siloed baseline {rates['fuel_poverty_rate'][-1]:,.1f}" in svg


# ------------------------------------------------------------ settings, page


def test_a_preset_for_one_place_selects_that_place_and_its_levers():
    settings = Settings(place="E08000025").with_preset("hastings_fuel_poverty")
    assert settings.place == HASTINGS
    assert settings.levers.pooling == pytest.approx(0.8)


def test_both_sides_start_from_the_same_residents():
    settings = Settings(place=HASTINGS)
    left = start_run(baseline_scenario(settings), seed=3, months=0)
    right = start_run(chosen_scenario(settings.with_lever("pooling", 0.3)), seed=3, months=0)
    for name, values in left.initial_rates.items():
        assert values.tolist() == right.initial_rates[name].tolist(), name


def test_page_steps_both_runs_and_shows_the_month_and_money():
    box, _ = render_page()
    assert "Month 0 of 60" in widgets_with_class(box, "pfpp-month")[0].unsafe_innerHTML
    for button in ("pfpp-step-year", "pfpp-step-year", "pfpp-step"):
        widgets_with_class(box, button)[0].fire_event("click", {})
    assert "Month 25 of 60: April 2023" in widgets_with_class(box, "pfpp-month")[0].unsafe_innerHTML
    siloed = widgets_with_class(box, "pfpp-side-siloed")[0]
    yours = widgets_with_class(box, "pfpp-side-yours")[0]
    returned = [widgets_with_class(side, "pfpp-monitors")[0].unsafe_innerHTML for side in (siloed, yours)]
    assert returned[0] != returned[1]
    assert "clawed back" in widgets_with_class(siloed, "pfpp-narrative")[0].unsafe_innerHTML


def test_every_preset_button_sets_the_right_side_and_keeps_the_month_and_dates():
    box, _ = render_page()
    widgets_with_class(box, "pfpp-step-year")[0].fire_event("click", {})
    for name in preset_order():
        widgets_with_class(box, f"pfpp-preset-{name}")[0].fire_event("click", {})
        heading = widgets_with_class(box, "pfpp-side-yours")[0].children[0].unsafe_innerHTML
        assert heading.startswith("Your settings (from "), heading
        toolbar, siloed, yours = months_on_screen(box)
        assert toolbar == siloed == yours, (name, toolbar, siloed, yours)
        assert toolbar.startswith("Month 12 of 60")


def test_only_presets_run_as_the_siloed_side_is_are_offered():
    offered = preset_order()
    for name in list_presets():
        assert (name in offered) == (not run_differences(name)), name
    for name in offered:
        settings = Settings().with_preset(name)
        assert chosen_scenario(settings).run == baseline_scenario(settings).run, name
    assert "baseline_history" not in offered, "it starts in January 2019 and runs 96 months: the sides' dates would differ"
    assert "baseline_forecast" not in offered, "it starts in March 2024 and runs 82 months: the sides' dates would differ"


def test_a_preset_run_over_other_months_is_refused_naming_them():
    history = preset("baseline_history").run
    with pytest.raises(PfppError, match="baseline_history cannot be your side") as caught:
        Settings().with_preset("baseline_history")
    start = pd.Timestamp(history.start).strftime("%B %Y")
    assert f"starts in {start}" in str(caught.value)
    assert f"runs {history.horizon_months} months" in str(caught.value)


def test_the_drawer_says_which_presets_are_not_offered_and_why():
    box, _ = render_page()
    (note,) = widgets_with_class(box, "pfpp-presets-left-out")
    for name, shown in (("baseline_history", "Baseline history"), ("baseline_forecast", "Baseline forecast")):
        assert shown in note.unsafe_innerHTML
        assert run_differences(name)[0] in note.unsafe_innerHTML
        assert not widgets_with_class(box, f"pfpp-preset-{name}")


def months_on_screen(box) -> tuple[str, str, str]:
    """The toolbar's month line and each side's own, as the room reads them."""
    toolbar = widgets_with_class(box, "pfpp-month")[0].unsafe_innerHTML.split(" &middot; ")[-1]
    sides = [widgets_with_class(widgets_with_class(box, f"pfpp-side-{s}")[0], "pfpp-side-month")[0].unsafe_innerHTML for s in ("siloed", "yours")]
    return toolbar, *sides


def wait_for(condition, *, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout_s} s")
        time.sleep(0.02)


class MonthsAllowed:
    """Play's speeds, as the page reads them before each month: a month's wait ends only once the test has allowed it.

    However slow the machine, Play then plays the months a test allows and no more, so it
    cannot reach the horizon while a change is being replayed.
    """

    def __init__(self) -> None:
        self._months = threading.Semaphore(0)

    def allow(self, months: int) -> None:
        self._months.release(months)

    def __getitem__(self, speed: str) -> float:
        self._months.acquire()
        return 0.0


def test_levers_a_preset_and_the_place_changed_during_play_leave_both_sides_at_the_same_month(monkeypatch):
    allowed = MonthsAllowed()
    monkeypatch.setattr(page, "SPEEDS", allowed)
    box, context = render_page()
    play = widgets_with_class(box, "pfpp-play")[0]
    try:
        for _ in range(2):  # later months take longer to replay, which is when a change used to race the month played
            widgets_with_class(box, "pfpp-step-year")[0].fire_event("click", {})
        shown = months_on_screen(box)[0]
        play.fire_event("click", {})
        played = []
        for change in (
            lambda: setattr(widgets_with_class(box, "pfpp-lever-carry_over")[0], "v_model", False),
            lambda: setattr(widgets_with_class(box, "pfpp-lever-secondments")[0], "v_model", False),
            lambda: widgets_with_class(box, "pfpp-preset-stop_start")[0].fire_event("click", {}),
            lambda: setattr(widgets_with_class(box, "pfpp-place")[0], "v_model", "Luton"),
        ):
            allowed.allow(3)
            wait_for(lambda shown=shown: months_on_screen(box)[0] != shown)  # a month was played since the last change,
            change()  # and the others allowed are played as the change is made
            played.append(months_on_screen(box))
            shown = played[-1][0]
        play.fire_event("click", {})
        wait_for(lambda: play.children[-1] == "Play")
        allowed.allow(1)  # a month stepped as Pause was pressed shows too
        time.sleep(0.3)
        toolbar, siloed, yours = months_on_screen(box)
        assert toolbar == siloed == yours, (toolbar, siloed, yours)
        assert all(len(set(shown)) == 1 for shown in played), played
        assert "Luton" in widgets_with_class(box, "pfpp-month")[0].unsafe_innerHTML
        assert not toolbar.startswith("Month 60"), "Play reached the horizon: the changes were not all made during Play"
        widgets_with_class(box, "pfpp-step")[0].fire_event("click", {})
        assert len(set(months_on_screen(box))) == 1
    finally:
        allowed.allow(100)  # a Play thread still waiting for a month ends
        context.close()


# ----------------------------------------------------------------------- seed


@pytest.mark.parametrize(("typed", "seed"), [("0", 0), ("7", 7), (" 42 ", 42), ("007", 7), ("123456789012345678", 123456789012345678)])
def test_a_whole_number_of_zero_or_more_is_a_seed(typed, seed):
    assert parse_seed(typed) == seed


@pytest.mark.parametrize("typed", ["abc", "", "   ", "-5", "1.5", "1e3", "+7", "\u0663", "1234567890123456789"])
def test_anything_else_is_refused_rather_than_rounded_clipped_or_read_as_zero(typed):
    with pytest.raises(PfppError, match="seed .*: expected") as caught:
        parse_seed(typed)
    assert (typed.strip()[:8] or "(empty)") in str(caught.value)


def seed_box(box):
    return widgets_with_class(box, "pfpp-seed")[0]


def type_seed(box, text: str) -> None:
    box_ = seed_box(box)
    box_.v_model = text
    box_.fire_event("focusout", {})


def test_the_seed_box_refuses_a_bad_seed_beside_it_and_keeps_showing_the_seed_in_use():
    box, _ = render_page()
    for bad in ("abc", "", "-5"):
        type_seed(box, bad)
        shown = seed_box(box)
        assert shown.v_model == "1", bad
        assert shown.error and "still using seed 1" in shown.messages[0], (bad, shown.messages)
        assert (bad or "(empty)") in shown.messages[0]
        assert "seed 1 &middot;" in widgets_with_class(box, "pfpp-month")[0].unsafe_innerHTML
    type_seed(box, "7")
    shown = seed_box(box)
    assert (shown.v_model, shown.error, shown.messages) == ("7", False, [])
    assert "seed 7 &middot;" in widgets_with_class(box, "pfpp-month")[0].unsafe_innerHTML
    widgets_with_class(box, "pfpp-step-year")[0].fire_event("click", {})
    delivered = {
        seed: money(money_to_date(start_run(baseline_scenario(Settings(seed=seed)), seed=seed, months=12))["delivered_gbp"][-1])
        for seed in (1, 7)
    }
    assert delivered[1] != delivered[7]
    assert delivered[7] in widgets_with_class(widgets_with_class(box, "pfpp-side-siloed")[0], "pfpp-monitors")[0].unsafe_innerHTML
