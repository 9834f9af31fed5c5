"""'Why do the two sides differ?' on the page: the button, its status line, and the explanation worked out off the UI thread."""

from __future__ import annotations

import threading
from concurrent.futures import BrokenExecutor
from html import escape

import solara

from pfpp_sim.app.frame import Frame
from pfpp_sim.app.session import pilot_places
from pfpp_sim.app.sides import Sides
from pfpp_sim.app.why import explain_sides, side_values
from pfpp_sim.app.why_panel import panel_html
from pfpp_sim.errors import PfppError
from pfpp_sim.workers import process_pool

__all__ = ["WhyPanel"]


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
