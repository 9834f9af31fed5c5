"""The teaching app's page: controls, two runs side by side, charts, money flows, narrative.

Served by :func:`pfpp_sim.app.serve` (``pfpp app``) as the Solara app
``pfpp_sim.app.page:Page``. The left run is always the siloed baseline; the right run
uses the room's preset and levers. Both share place, scale and seed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import BrokenExecutor
from dataclasses import replace
from html import escape

import solara

from pfpp_sim.app.charts import BASELINE_COLOUR, CHOSEN_COLOUR
from pfpp_sim.app.frame import Frame, SideFrame, build_frame
from pfpp_sim.app.narrative import label
from pfpp_sim.app.session import LEVER_LABELS, SCALES, Settings, parse_seed, pilot_places, preset, preset_order, run_differences
from pfpp_sim.app.sides import Sides
from pfpp_sim.app.why import explain_sides, side_values
from pfpp_sim.app.why_panel import panel_html
from pfpp_sim.errors import PfppError
from pfpp_sim.scenario import Levers, list_presets
from pfpp_sim.workers import process_pool

__all__ = ["Page"]

PLAY_INTERVAL_S = 0.4
"""Seconds between months while playing (a step and its charts take far less)."""
_PRESET_LABELS = {
    "siloed_baseline": "Siloed baseline",
    "pfpp_joined_up": "PfPP joined up",
    "pfpp_as_delivered": "PfPP as delivered",
    "funding_simplification": "Funding simplification",
    "policy_campus": "Policy campus",
    "stop_start": "Stop-start funding",
    "hastings_fuel_poverty": "Hastings fuel poverty",
    "luton_asb": "Luton anti-social behaviour",
    "bradford_youth_mh": "Bradford youth mental health",
}
_SLIDERS = ("pooling", "data_sharing", "local_priority_weight")
_SWITCHES = (
    "timeline_alignment", "carry_over", "single_point_of_contact", "policy_campus", "secondments", "senior_contact", "funding_mapping"
)
_CSS = """
.pfpp-main { font-size: 16px; padding-bottom: 48px; }
.pfpp-lever-label { font-size: 15px; font-weight: 500; margin-top: 6px; }
.pfpp-sidebar .v-switch .v-input__details, .pfpp-sidebar .v-slider .v-input__details { display: none; }
.pfpp-toolbar { align-items: center; flex-wrap: wrap; }
.pfpp-month { font-size: 22px; font-weight: bold; color: #1a1a1a; margin-left: 12px; }
.pfpp-side h2 { font-size: 22px; margin: 4px 0 0 0; }
.pfpp-side-month { font-size: 16px; font-weight: bold; color: #3d3d3d; margin-bottom: 4px; }
.pfpp-monitors { display: grid; grid-template-columns: repeat(4, 1fr); gap: 6px; margin-bottom: 8px; }
.pfpp-monitor { background: #f3f2f1; padding: 6px 8px; border-left: 5px solid #505050; }
.pfpp-monitor .pfpp-label { font-size: 13px; color: #3d3d3d; }
.pfpp-monitor .pfpp-value { font-size: 21px; font-weight: bold; color: #0b0c0c; }
.pfpp-side-siloed .pfpp-monitor { border-left-color: #F46A25; }
.pfpp-side-yours .pfpp-monitor { border-left-color: #12436D; }
.pfpp-difference { background: #f3f2f1; border-left: 5px solid #12436D; padding: 4px 10px 6px 10px; }
.pfpp-difference-title { font-size: 15px; color: #3d3d3d; margin-bottom: 2px; }
.pfpp-difference-cells { display: grid; grid-template-columns: repeat(auto-fit, minmax(125px, 1fr)); gap: 4px 10px; }
.pfpp-difference .pfpp-label { font-size: 13px; color: #3d3d3d; }
.pfpp-difference .pfpp-value { font-size: 20px; font-weight: bold; color: #0b0c0c; white-space: nowrap; }
.pfpp-causes table { border-collapse: collapse; font-size: 15px; }
.pfpp-causes caption { text-align: left; font-size: 15px; color: #3d3d3d; padding-bottom: 2px; }
.pfpp-causes th, .pfpp-causes td { padding: 1px 10px 1px 0; text-align: left; vertical-align: baseline; }
.pfpp-causes td { font-weight: bold; white-space: nowrap; min-width: 9em; }
.pfpp-causes thead th.pfpp-cause-siloed { color: #F46A25; }
.pfpp-causes thead th.pfpp-cause-yours { color: #12436D; }
.pfpp-causes tr.pfpp-cause-route th { font-weight: normal; padding-left: 1.2em; }
.pfpp-cause-note { font-size: 12.5px; font-weight: normal; color: #505050; margin-left: 8px; }
.pfpp-charts { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 12px; }
.pfpp-legend { font-size: 14px; margin: 2px 0 4px 0; }
.pfpp-narrative { font-size: 15px; line-height: 1.35; background: #f8f8f8; padding: 6px 10px; height: 150px; overflow-y: auto; }
.pfpp-narrative ul { padding-left: 18px; margin: 0; }
.v-app-bar, header.v-toolbar { background-color: #12436D !important; }
.pfpp-caption { font-size: 12.5px; color: #505050; margin: -6px 0 10px 0; line-height: 1.3; }
.pfpp-sidebar h3 { font-size: 16px; margin: 14px 0 4px 0; }
.pfpp-why { background: #f8f8f8; border-left: 5px solid #12436D; padding: 6px 12px; }
.pfpp-why h3 { font-size: 19px; margin: 4px 0; }
.pfpp-why-charts { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px 18px; }
.pfpp-why-metric p { font-size: 13px; color: #3d3d3d; margin: 2px 0 6px 0; line-height: 1.3; }
.pfpp-why-method { font-size: 13.5px; color: #3d3d3d; }
.pfpp-why-status { font-size: 15px; color: #3d3d3d; }
"""


@solara.component
def Side(side: SideFrame, *, baseline: bool, title: str):
    """One column of a frame: heading, its own month, cards, charts, narrative and funding flow."""
    colour, other_colour = (BASELINE_COLOUR, CHOSEN_COLOUR) if baseline else (CHOSEN_COLOUR, BASELINE_COLOUR)
    name, other_name = ("Siloed baseline", "Your settings") if baseline else ("Your settings", "Siloed baseline")
    key = "siloed" if baseline else "yours"
    with solara.Column(classes=["pfpp-side", f"pfpp-side-{key}"], gap="6px"):
        solara.HTML(tag="h2", unsafe_innerHTML=title, style=f"color: {colour}")
        solara.HTML(tag="div", unsafe_innerHTML=side.month_text, classes=["pfpp-side-month"])
        solara.HTML(tag="div", unsafe_innerHTML=side.cards_html, classes=["pfpp-monitors"])
        legend = (
            f"<span style='color:{colour};font-weight:bold'>&#9473;&#9473; {name}</span> &nbsp; "
            f"<span style='color:{other_colour}'>&#9476;&#9476; {other_name}, for comparison</span>"
        )
        solara.HTML(tag="div", unsafe_innerHTML=legend, classes=["pfpp-legend"])
        solara.HTML(tag="div", unsafe_innerHTML="".join(f"<div>{s}</div>" for s in side.charts), classes=["pfpp-charts"])
        solara.HTML(tag="h3", unsafe_innerHTML="What is happening")
        solara.HTML(tag="div", unsafe_innerHTML=side.narrative_html, classes=["pfpp-narrative", f"pfpp-narrative-{key}"])
        solara.HTML(tag="h3", unsafe_innerHTML="Where the money went, to date")
        solara.HTML(tag="div", unsafe_innerHTML=side.flow_svg, classes=["pfpp-flows"])


def _why_status(month: int, *, playing: bool, working: bool, progress: tuple[int, int], error, stale: bool) -> str:
    """The line beside the 'why' button: what the room can do now, or how far the runs are."""
    if playing:
        return "Pause to ask why the two sides differ."
    if month == 0:
        return "Both sides start the same: step forward first."
    if working:
        done, total = progress
        return f"Working&hellip; {done} of {total} runs" if total else "Working&hellip; starting the runs"
    if error is not None:
        return f"Could not explain month {month}: {escape(str(error))}"
    if stale:
        return f"The settings or the month changed since you asked: press again to explain month {month}."
    return ""


@solara.component
def WhyPanel(sides: Sides, frame: Frame, *, playing: bool):
    """'Why do the two sides differ?': a button, then the explanation of this month, worked out off the UI thread.

    Explanations are kept by settings and month, so going back to settings already
    explained shows them at once. Only the explanation of the settings and month on
    screen is ever shown: one asked for before the room changed them is stopped (or,
    if it finished, kept for later) and the room is told to ask again. The worker
    processes are started at the first question and kept until the session ends, so
    later questions do not wait for them.
    """
    settings, month = frame.settings, frame.month
    explained = solara.use_reactive({})  # (settings, month) -> Why, or the one-line error that stopped it
    asked = solara.use_reactive(None)  # (settings, month) the room last asked about
    progress = solara.use_reactive((0, 0))
    workers = solara.use_ref(None)  # the session's process pool, made at the first question
    key = (settings, month)

    def close_workers():
        def close() -> None:
            if workers.current is not None:
                workers.current.shutdown(wait=False, cancel_futures=True)

        return close

    solara.use_effect(close_workers, [])

    def work(cancel: threading.Event) -> None:
        if asked.value != key or key in explained.value:
            return

        def moved(done: int, total: int) -> None:
            if not cancel.is_set():
                progress.set((done, total))

        if workers.current is None:
            workers.current = process_pool()
        with sides.reading() as now:
            if (now.settings, now.month) != key:  # the room moved on: the next render says so
                return
            shown = (side_values(now.left, month), side_values(now.right, month))
        try:
            why = explain_sides(settings, month, shown=shown, executor=workers.current, progress=moved, cancel=cancel)
        except PfppError as err:
            why = str(err)
        except BrokenExecutor as err:  # a worker died (e.g. out of memory): start new ones at the next question
            workers.current = None
            why = f"the worker processes stopped ({err}); press again"
        if why is not None:
            explained.set({**explained.value, key: why})

    task = solara.use_thread(work, dependencies=[asked.value, key], intrusive_cancel=False)

    def ask() -> None:
        progress.set((0, 0))
        asked.set(key)

    working = asked.value == key and key not in explained.value and task.error is None
    status = _why_status(
        month, playing=playing, working=working, progress=progress.value, error=task.error,
        stale=asked.value is not None and key not in explained.value,
    )
    with solara.Column(gap="4px"):
        with solara.Row(gap="8px", style="align-items: center"):
            solara.Button(
                "Why do the two sides differ?", icon_name="mdi-chart-waterfall", on_click=ask, color="primary", outlined=True,
                disabled=playing or month == 0 or working or key in explained.value, classes=["pfpp-why-button"],
            )
            solara.HTML(tag="span", unsafe_innerHTML=status, classes=["pfpp-why-status"])
        if working:
            done, total = progress.value
            solara.ProgressLinear(value=100 * done / total if total else True, color="primary")
        why = explained.value.get(key)
        if isinstance(why, str):
            solara.HTML(tag="div", unsafe_innerHTML=f"Could not explain month {month}: {escape(why)}", classes=["pfpp-why-status"])
        elif why is not None:
            place = dict(pilot_places())[settings.place]
            solara.HTML(tag="div", unsafe_innerHTML=panel_html(why, place=place, dates=frame.dates), classes=["pfpp-why-panel"])


@solara.component
def SeedBox(seed: int, use: Callable[[int], None]):
    """The seed in use, as the room types it (``use(seed)`` uses another).

    Anything but a whole number of 0 or more is refused with a message under the box,
    and the box goes back to the seed still in use, so what it shows is always the seed
    both sides run on.
    """
    error = solara.use_reactive("")
    redraws = solara.use_reactive(0)  # a new box, showing the seed in use, after a refusal

    def typed(text: str | None) -> None:
        try:
            chosen = parse_seed(text or "")
        except PfppError as err:
            error.set(f"{err}; still using seed {seed}")
            redraws.set(redraws.value + 1)
            return
        error.set("")
        if chosen == seed:
            redraws.set(redraws.value + 1)  # e.g. " 007": show 7
        else:
            use(chosen)

    solara.InputText(
        "Seed", value=str(seed), on_value=typed, error=error.value or False, classes=["pfpp-seed"],
    ).key(f"seed-{seed}-{redraws.value}")


@solara.component
def Controls(settings: Settings, change: Callable[[Callable[[Settings], Settings]], None]):
    """The left drawer: place, scale, seed, presets and levers. ``change(how)`` applies ``how`` to the settings in use."""
    s = settings
    names = {code: name for code, name in pilot_places()}
    codes = {name: code for code, name in names.items()}
    baseline_churn = preset("siloed_baseline").mechanisms.stream_churn.value
    optional = {
        "funding_period_months": {"each stream's own": None, "12 months": 12, "24 months": 24, "36 months": 36},
        "competitive_share": {"each stream's own": None, "none (0%)": 0.0, "25%": 0.25, "50%": 0.5, "all (100%)": 1.0},
        "stream_churn": {f"baseline ({baseline_churn:.0%} a year)": None, "none": 0.0, "10% a year": 0.1, "50% a year": 0.5},
    }

    def set_lever(name):
        return lambda value: change(lambda now: now.with_lever(name, value))

    def caption(name: str) -> None:
        solara.HTML(tag="div", unsafe_innerHTML=Levers.model_fields[name].description, classes=["pfpp-caption"])

    with solara.Column(classes=["pfpp-sidebar"], gap="4px"):
        solara.HTML(tag="h3", unsafe_innerHTML="Place and run")
        solara.Select("Place", values=list(codes), value=names[s.place], on_value=lambda n: change(lambda now: replace(now, place=codes[n])), classes=["pfpp-place"])
        solara.Select("Scale (simulated per real resident)", values=list(SCALES), value=s.scale, on_value=lambda v: change(lambda now: replace(now, scale=v)))
        SeedBox(s.seed, lambda seed: change(lambda now: replace(now, seed=seed)))
        solara.HTML(tag="h3", unsafe_innerHTML="Presets for your side")
        offered = preset_order()
        with solara.Row(gap="4px", style="flex-wrap: wrap"):
            for name in offered:
                with solara.Tooltip(preset(name).description):
                    solara.Button(
                        _PRESET_LABELS.get(name, label(name)), on_click=lambda name=name: change(lambda now: now.with_preset(name)),
                        color="primary" if name == s.preset else None, outlined=name != s.preset, classes=[f"pfpp-preset-{name}"],
                    )
        left_out = [f"<i>{_PRESET_LABELS.get(n, label(n))}</i> ({'; '.join(run_differences(n))})" for n in list_presets() if n not in offered]
        if left_out:
            solara.HTML(
                tag="div", unsafe_innerHTML=f"Not offered, as the siloed side is not run that way: {', '.join(left_out)}.",
                classes=["pfpp-caption", "pfpp-presets-left-out"],
            )
        solara.HTML(tag="h3", unsafe_innerHTML="Levers for your side")
        for name in _SLIDERS:
            solara.HTML(tag="div", unsafe_innerHTML=LEVER_LABELS[name], classes=["pfpp-lever-label"])
            with solara.Column(classes=[f"pfpp-lever-{name}"], gap="0px"):
                solara.SliderFloat("", value=getattr(s.levers, name), min=0.0, max=1.0, step=0.1, on_value=set_lever(name), thumb_label=True)
            caption(name)
        for name in _SWITCHES:
            solara.Switch(label=LEVER_LABELS[name], value=getattr(s.levers, name), on_value=set_lever(name), color="primary", classes=[f"pfpp-lever-{name}"])
            caption(name)
        for name, options in optional.items():
            current = next((k for k, v in options.items() if v == getattr(s.levers, name)), None)
            if current is None:
                current = f"{getattr(s.levers, name)} (from the preset)"
                options = {**options, current: getattr(s.levers, name)}
            solara.Select(LEVER_LABELS[name], values=list(options), value=current, on_value=lambda k, name=name, options=options: set_lever(name)(options[k]))
            caption(name)


def _frame(sides: Sides) -> Frame:
    with sides.reading() as now:
        return build_frame(now)


@solara.component
def Page():
    sides = solara.use_memo(lambda: Sides.start(Settings()), dependencies=[])
    version = solara.use_reactive(0)  # Sides.version last shown: setting it re-renders the page
    playing = solara.use_reactive(False)
    ticket = solara.use_ref(0)  # the token of the latest Play

    def show() -> None:
        version.set(sides.version)

    def advance(months: int) -> None:
        sides.step(months)
        show()

    def change(how: Callable[[Settings], Settings]) -> None:
        sides.change(how(sides.settings))
        show()

    def play(cancel: threading.Event) -> None:
        if not playing.value:
            return
        token = ticket.current
        while not cancel.is_set():
            started = time.perf_counter()
            stepped = sides.step(1, play=token)
            show()
            if not stepped:  # the horizon, or a Pause or Reset meanwhile
                if ticket.current == token:
                    playing.set(False)
                return
            cancel.wait(max(PLAY_INTERVAL_S - (time.perf_counter() - started), 0.05))

    solara.use_thread(play, dependencies=[playing.value], intrusive_cancel=False)

    def toggle_play() -> None:
        if playing.value:
            sides.pause()
            playing.set(False)
        else:
            ticket.current = sides.play()
            playing.set(True)

    def reset() -> None:
        sides.reset()
        playing.set(False)
        show()

    frame = solara.use_memo(lambda: _frame(sides), dependencies=[version.value])
    s = frame.settings
    theme = solara.lab.theme.themes.light
    theme.primary, theme.secondary = CHOSEN_COLOUR, "#28A197"  # Analysis Function dark blue and turquoise
    solara.Title("pfpp_sim: siloed vs joined-up funding")
    solara.Style(_CSS)
    with solara.Sidebar():
        Controls(s, change)
    place = dict(pilot_places())[s.place]
    done = frame.month >= frame.horizon
    with solara.Column(classes=["pfpp-main"], gap="8px"):
        with solara.Row(classes=["pfpp-toolbar"], gap="8px"):
            solara.Button("Step", icon_name="mdi-step-forward", on_click=lambda: advance(1), disabled=playing.value or done, color="primary", classes=["pfpp-step"])
            solara.Button("Step a year", icon_name="mdi-fast-forward", on_click=lambda: advance(12), disabled=playing.value or done, classes=["pfpp-step-year"])
            solara.Button(
                "Pause" if playing.value else "Play", icon_name="mdi-pause" if playing.value else "mdi-play",
                on_click=toggle_play, disabled=done, color="primary", classes=["pfpp-play"],
            )
            solara.Button("Reset", icon_name="mdi-restart", on_click=reset, outlined=True, classes=["pfpp-reset"])
            solara.HTML(tag="span", unsafe_innerHTML=f"{place} &middot; seed {s.seed} &middot; {frame.month_text}", classes=["pfpp-month"])
        solara.HTML(tag="div", unsafe_innerHTML=frame.difference_html, classes=["pfpp-difference"])
        solara.HTML(tag="div", unsafe_innerHTML=frame.causes_html, classes=["pfpp-causes"])
        WhyPanel(sides, frame, playing=playing.value)
        with solara.Columns([1, 1]):
            Side(frame.left, baseline=True, title="Siloed baseline")
            Side(frame.right, baseline=False, title=f"Your settings (from {_PRESET_LABELS.get(s.preset, label(s.preset))})")
        solara.HTML(
            tag="p",
            unsafe_innerHTML=(
                "Same place, residents and random numbers on both sides: only the levers differ. Changing a setting replays both runs "
                "to this month. Model results under stated assumptions, not forecasts."
            ),
            classes=["pfpp-caption"],
        )
