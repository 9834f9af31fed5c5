"""The teaching app's page: controls, two runs side by side, charts, money flows, narrative.

Served by :func:`pfpp_sim.app.serve` (``pfpp app``) as the Solara app
``pfpp_sim.app.page:Page``. The left run is always the siloed baseline; the right run
uses the room's preset and levers. Both share place, scale and seed. The components
live beside it: :mod:`~pfpp_sim.app.toolbar`, :mod:`~pfpp_sim.app.controls`,
:mod:`~pfpp_sim.app.column` and :mod:`~pfpp_sim.app.why_view`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from html import escape, unescape

import solara

from pfpp_sim.app.address import address
from pfpp_sim.app.charts import CHOSEN_COLOUR
from pfpp_sim.app.column import Side
from pfpp_sim.app.controls import Controls
from pfpp_sim.app.downloads import Downloads
from pfpp_sim.app.frame import Frame, build_frame
from pfpp_sim.app.header import Header
from pfpp_sim.app.info_view import InfoButton, InfoPanel
from pfpp_sim.app.link import open_link, use_address
from pfpp_sim.app.playing import DEFAULT_SPEED, SPEEDS, play
from pfpp_sim.app.session import Settings, pilot_places, your_side_title
from pfpp_sim.app.sides import Sides
from pfpp_sim.app.style import CSS
from pfpp_sim.app.toolbar import Toolbar
from pfpp_sim.app.why_view import WhyPanel

__all__ = ["Page"]


def _frame(sides: Sides) -> Frame:
    with sides.reading() as now:
        return build_frame(now)


@solara.component
def Page():
    router = solara.use_router()
    sides, first_refusal = solara.use_memo(lambda: open_link(router.search), dependencies=[])
    refusal = solara.use_reactive(first_refusal)  # why a link could not be used, until the room closes it
    version = solara.use_reactive(0)  # Sides.version last shown: setting it re-renders the page
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(DEFAULT_SPEED)
    pause_each_april = solara.use_reactive(False)
    drawer_open = solara.use_reactive(True)
    presenting = solara.use_reactive(False)
    info = solara.use_reactive(False)
    ticket = solara.use_ref(0)  # the token of the latest Play

    def show() -> None:
        version.set(sides.version)

    def advance(months: int) -> None:
        sides.step(months)
        show()

    def change(how: Callable[[Settings], Settings]) -> None:
        sides.change(how(sides.settings))
        show()

    def run_to(month: int) -> None:
        sides.run_to(month)
        show()

    def play_thread(cancel: threading.Event) -> None:
        if not playing.value:
            return
        token = ticket.current
        stopped = play(
            sides, token, interval_s=lambda: SPEEDS[speed.value], pause_each_april=lambda: pause_each_april.value,
            cancel=cancel, shown=show,
        )
        if stopped in ("horizon", "april") and ticket.current == token:
            sides.pause()
            playing.set(False)

    solara.use_thread(play_thread, dependencies=[playing.value], intrusive_cancel=False)

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
    use_address(sides, address(s, frame.month), playing=playing.value, shown=show, refused=refusal.set)
    theme = solara.lab.theme.themes.light
    theme.primary, theme.secondary = CHOSEN_COLOUR, "#28A197"  # Analysis Function dark blue and turquoise
    solara.Title("pfpp_sim: siloed vs joined-up funding")
    solara.Style(CSS)
    place = dict(pilot_places())[s.place]
    with solara.Column(classes=["pfpp-app", *(["pfpp-presenting"] if presenting.value else [])], gap="0px"):
        status = f"{place} &middot; seed {s.seed} &middot; {frame.month_text}"
        with Header(drawer_open=drawer_open, presenting=presenting):
            Downloads(sides, frame, heading=unescape(status), playing=playing.value)
            InfoButton(info)
        with solara.Row(classes=["pfpp-body"], gap="0px"):
            # Hidden rather than left out, so the main column keeps its place and its components their state.
            with solara.Column(classes=["pfpp-drawer", *([] if drawer_open.value else ["pfpp-drawer-closed"])], gap="0px"):
                Controls(s, change)
            with solara.Column(classes=["pfpp-main"], gap="8px"):
                InfoPanel(info)
                with solara.Column(gap="0px"):  # always there, so closing it moves nothing below: their state stays
                    if refusal.value:
                        with solara.Row(classes=["pfpp-link-refused"], gap="8px", style="align-items: center"):
                            solara.HTML(tag="span", unsafe_innerHTML=escape(refusal.value), attributes={"role": "alert"})
                            solara.Button("Close", icon_name="mdi-close", text=True, on_click=lambda: refusal.set(""), classes=["pfpp-link-refused-close"])
                Toolbar(
                    status=status, month=frame.month, horizon=frame.horizon,
                    playing=playing.value, speed=speed, pause_each_april=pause_each_april,
                    step=advance, toggle_play=toggle_play, reset=reset, run_to=run_to,
                )
                solara.HTML(tag="div", unsafe_innerHTML=frame.difference_html, classes=["pfpp-difference"])
                solara.HTML(tag="div", unsafe_innerHTML=frame.causes_html, classes=["pfpp-causes"])
                WhyPanel(sides, frame, playing=playing.value)
                with solara.Row(classes=["pfpp-sides"], gap="16px"):
                    Side(frame.left, baseline=True, title="Siloed baseline")
                    Side(frame.right, baseline=False, title=your_side_title(s))
                solara.HTML(
                    tag="p",
                    unsafe_innerHTML=(
                        "Same place, residents and random numbers on both sides: only the levers differ. Changing a setting replays "
                        "both runs to this month. Model results under stated assumptions, not forecasts."
                    ),
                    classes=["pfpp-caption"],
                )
