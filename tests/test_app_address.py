"""The teaching app's state in its address: written after every action, read back on a reload or from a shared link."""

from __future__ import annotations

from dataclasses import replace
from html import unescape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from widgets import address_bar, render_page, widgets_with_class

from pfpp_sim.app.address import MAX_QUERY_CHARS, address, read_address
from pfpp_sim.app.session import LEVER_CHOICES, LEVER_LABELS, SCALES, Settings, pilot_places, preset, preset_order
from pfpp_sim.errors import PfppError
from pfpp_sim.scenario import Levers

LUTON = "E06000032"


@st.composite
def states(draw) -> tuple[Settings, int]:
    """Any settings and month the room can reach: a preset, then a place, scale and seed, then any levers moved."""
    chosen = Settings().with_preset(draw(st.sampled_from(preset_order())))
    chosen = replace(
        chosen,
        place=draw(st.sampled_from([code for code, _ in pilot_places()])),
        scale=draw(st.sampled_from(SCALES)),
        seed=draw(st.integers(0, 10**18 - 1)),
    )
    ours = preset(chosen.preset).levers
    for name in draw(st.lists(st.sampled_from(list(LEVER_LABELS)), unique=True)):
        kind = Levers.model_fields[name].annotation
        if kind is bool:
            value = draw(st.booleans())
        elif name in LEVER_CHOICES:
            value = draw(st.sampled_from([*LEVER_CHOICES[name], getattr(ours, name)]))
        else:
            value = draw(st.floats(0.0, 1.0))
        chosen = chosen.with_lever(name, value)
    return chosen, draw(st.integers(0, preset("siloed_baseline").run.horizon_months))


@settings(max_examples=300, deadline=None)
@given(states())
def test_any_state_the_room_can_reach_reads_back_from_its_address_unchanged(state):
    chosen, month = state
    query = address(chosen, month)
    assert read_address(query) == (chosen, month)
    assert read_address("?" + query) == (chosen, month)
    assert len(query) < MAX_QUERY_CHARS


def test_an_address_names_the_run_and_only_the_levers_changed_from_the_preset():
    chosen = Settings().with_preset("stop_start").with_lever("carry_over", True).with_lever("pooling", 0.3)
    assert address(replace(chosen, place=LUTON, seed=7), 14) == (
        f"place={LUTON}&scale=0.01&seed=7&preset=stop_start&month=14&pooling=0.3&carry_over=on"
    )


def test_keys_a_link_leaves_out_keep_the_defaults():
    assert read_address("") == (Settings(), 0)
    assert read_address("?seed=7") == (replace(Settings(), seed=7), 0)
    assert read_address("preset=hastings_fuel_poverty&place=E06000032") == (
        replace(Settings().with_preset("hastings_fuel_poverty"), place=LUTON), 0
    ), "a place in the link wins over the place a preset selects"


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("place=E07999999", "place = 'E07999999': expected the ONS code of one of the 14 places"),
        ("scale=0.3", "scale = '0.3': expected one of 0.002, 0.005, 0.01, 0.02, 0.05"),
        ("seed=-5", "seed '-5': expected a whole number, 0 or more"),
        ("seed=abc", "seed 'abc': expected a whole number"),
        ("preset=baseline_history", "preset = 'baseline_history': expected a preset run as the siloed side is"),
        ("preset=nobody", "preset = 'nobody': expected a preset run as the siloed side is"),
        ("month=61", "month '61': expected a whole number from 0 to 60"),
        ("month=", "month (empty): expected a whole number from 0 to 60"),
        ("pooling=1.5", "pooling = '1.5': expected a number from 0 to 1"),
        ("pooling=nan", "pooling = 'nan': expected a number from 0 to 1"),
        ("pooling=-0.1", "pooling = '-0.1': expected a number from 0 to 1"),
        ("carry_over=yes", "carry_over = 'yes': expected on or off"),
        ("funding_period_months=48", "funding_period_months = '48': expected one of default, 12, 24, 36"),
        ("stream_churn=0.2", "stream_churn = '0.2': expected one of default, 0.0, 0.1, 0.5"),
        ("poolling=0.5", "poolling = '0.5': expected no such key"),
        ("seed=1&seed=2", "seed = '2': expected the key once"),
        ("seed", "expected key=value pairs"),
        ("%3Cscript%3E=1", "<script> = '1': expected no such key"),
    ],
)
def test_a_bad_value_in_a_link_is_refused_in_one_line_naming_the_key_and_the_value(query, named):
    with pytest.raises(PfppError) as caught:
        read_address(query)
    assert named in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_link_longer_than_the_app_ever_writes_is_refused():
    with pytest.raises(PfppError, match="characters long"):
        read_address("seed=1&" * 400)


def months_on_screen(box) -> tuple[str, str, str]:
    toolbar = widgets_with_class(box, "pfpp-month")[0].unsafe_innerHTML
    sides = [widgets_with_class(widgets_with_class(box, f"pfpp-side-{s}")[0], "pfpp-side-month")[0].unsafe_innerHTML for s in ("siloed", "yours")]
    return toolbar, *sides


def test_the_page_opened_at_a_link_shows_its_place_seed_preset_levers_and_month():
    link = f"?place={LUTON}&seed=7&preset=stop_start&month=14&carry_over=on"
    box, _ = render_page(link)
    toolbar, siloed, yours = months_on_screen(box)
    assert toolbar == "Luton &middot; seed 7 &middot; Month 14 of 60: May 2022"
    assert siloed == yours == "Month 14 of 60: May 2022"
    assert widgets_with_class(box, "pfpp-side-yours")[0].children[0].unsafe_innerHTML == "Your settings (from Stop-start funding, 1 lever changed)"
    assert widgets_with_class(box, "pfpp-lever-carry_over")[0].v_model is True
    assert not widgets_with_class(box, "pfpp-link-refused")
    assert address_bar(box) == f"/{link}", "left as opened until the room does something"
    widgets_with_class(box, "pfpp-step")[0].fire_event("click", {})
    assert address_bar(box) == f"/?place={LUTON}&scale=0.01&seed=7&preset=stop_start&month=15&carry_over=on"


def test_the_page_writes_its_address_after_every_action():
    box, _ = render_page("")
    widgets_with_class(box, "pfpp-step-year")[0].fire_event("click", {})
    assert address_bar(box).endswith("preset=pfpp_joined_up&month=12")
    widgets_with_class(box, "pfpp-preset-stop_start")[0].fire_event("click", {})
    assert address_bar(box).endswith("preset=stop_start&month=12")
    widgets_with_class(box, "pfpp-lever-secondments")[0].v_model = True
    assert address_bar(box).endswith("preset=stop_start&month=12&secondments=on")
    widgets_with_class(box, "pfpp-reset")[0].fire_event("click", {})
    assert address_bar(box).endswith("preset=stop_start&month=0&secondments=on")


def test_going_back_in_the_browser_shows_the_settings_and_month_of_that_address():
    box, _ = render_page("?month=3")
    earlier = address_bar(box)
    widgets_with_class(box, "pfpp-step-year")[0].fire_event("click", {})
    widgets_with_class(box, "pfpp-lever-carry_over")[0].v_model = False
    assert months_on_screen(box)[0].endswith("Month 15 of 60: June 2022")
    (navigator,) = [w for w in _all(box) if type(w).__name__ == "Navigator"]
    navigator.location = earlier  # what the browser's Back does
    assert months_on_screen(box)[0].endswith("Month 3 of 60: June 2021")
    assert widgets_with_class(box, "pfpp-lever-carry_over")[0].v_model is True
    assert address_bar(box) == earlier


def _all(root):
    stack = [root]
    while stack:
        widget = stack.pop()
        yield widget
        stack.extend(c for c in (getattr(widget, "children", None) or []) if hasattr(c, "keys"))


@pytest.mark.parametrize("link", ["?month=99", "?place=nowhere&seed=7"])
def test_a_page_opened_at_a_bad_link_says_why_beside_the_defaults_and_writes_a_good_address(link):
    box, _ = render_page(link)
    (refused,) = widgets_with_class(box, "pfpp-link-refused")
    message = unescape(refused.children[0].unsafe_innerHTML)
    assert message.startswith("This link's settings could not be used, so the app shows its defaults: ")
    assert ("99" if "99" in link else "nowhere") in message
    assert months_on_screen(box)[0] == "Hastings &middot; seed 1 &middot; Month 0 of 60: starts April 2021"
    (navigator,) = [w for w in _all(box) if type(w).__name__ == "Navigator"]
    navigator.location = f"/{link}"  # the browser reporting the address the page opened at, once it has loaded
    assert [unescape(w.children[0].unsafe_innerHTML) for w in widgets_with_class(box, "pfpp-link-refused")] == [message]
    widgets_with_class(box, "pfpp-step")[0].fire_event("click", {})
    assert address_bar(box) == f"/?{address(Settings(), 1)}"
    navigator.location = f"/{link}"  # the room going back to it
    (refused,) = widgets_with_class(box, "pfpp-link-refused")
    assert unescape(refused.children[0].unsafe_innerHTML).startswith("This address's settings could not be used, so the app stays as it was: ")
    widgets_with_class(box, "pfpp-link-refused-close")[0].fire_event("click", {})
    assert not widgets_with_class(box, "pfpp-link-refused")
