"""The toolbar: Step, Step a year, Play or Pause, Reset, the Play speed, "pause each April", "run to month" and where the runs are."""

from __future__ import annotations

from collections.abc import Callable

import solara

from pfpp_sim.app.playing import SPEEDS
from pfpp_sim.app.session import parse_month
from pfpp_sim.errors import PfppError

__all__ = ["RunTo", "Toolbar"]


@solara.component
def RunTo(month: int, horizon: int, run_to: Callable[[int], None], *, disabled: bool):
    """A box for a month and a button that brings both sides to it (``run_to(month)``).

    Anything but a whole number from 0 to the horizon is refused with a message under the
    box, and nothing moves.
    """
    first = solara.use_memo(lambda: str(min(month + 12, horizon)), dependencies=[])  # a year on, until the room types
    typed = solara.use_reactive(first)
    error = solara.use_reactive("")

    def go() -> None:
        try:
            target = parse_month(typed.value or "", horizon)
        except PfppError as err:
            error.set(f"{err}; still at month {month}")
            return
        error.set("")
        run_to(target)

    with solara.Row(gap="4px", style="align-items: center", classes=["pfpp-run-to-row"]):
        solara.InputText(
            f"Month (0-{horizon})", value=typed, continuous_update=True, error=error.value or False,
            disabled=disabled, classes=["pfpp-run-to-month"], style="width: 9em; flex: none",
        )
        solara.Button("Run to month", icon_name="mdi-debug-step-over", on_click=go, disabled=disabled, outlined=True, classes=["pfpp-run-to"])


@solara.component
def Toolbar(
    *,
    status: str,
    month: int,
    horizon: int,
    playing: bool,
    speed: solara.Reactive[str],
    pause_each_april: solara.Reactive[bool],
    step: Callable[[int], None],
    toggle_play: Callable[[], None],
    reset: Callable[[], None],
    run_to: Callable[[int], None],
):
    """The toolbar's two rows: the buttons and where the runs are, then how Play plays and "run to month".

    ``status`` is the line naming place, seed and month; ``speed`` (a key of
    :data:`pfpp_sim.app.playing.SPEEDS`) and ``pause_each_april`` are read by Play before
    each month, so changing them during Play takes effect at once.
    """
    done = month >= horizon
    with solara.Column(gap="2px", classes=["pfpp-toolbar-box"]):
        with solara.Row(classes=["pfpp-toolbar"], gap="8px"):
            solara.Button("Step", icon_name="mdi-step-forward", on_click=lambda: step(1), disabled=playing or done, color="primary", classes=["pfpp-step"])
            solara.Button("Step a year", icon_name="mdi-fast-forward", on_click=lambda: step(12), disabled=playing or done, classes=["pfpp-step-year"])
            solara.Button(
                "Pause" if playing else "Play", icon_name="mdi-pause" if playing else "mdi-play",
                on_click=toggle_play, disabled=done, color="primary", classes=["pfpp-play"],
            )
            solara.Button("Reset", icon_name="mdi-restart", on_click=reset, outlined=True, classes=["pfpp-reset"])
            solara.HTML(tag="span", unsafe_innerHTML=status, classes=["pfpp-month"])
        with solara.Row(classes=["pfpp-toolbar", "pfpp-play-options"], gap="12px"):
            with solara.Row(gap="8px", style="align-items: center"):
                solara.HTML(tag="span", unsafe_innerHTML="Play speed", classes=["pfpp-toolbar-label"])
                solara.ToggleButtonsSingle(value=speed, values=list(SPEEDS), dense=True, classes=["pfpp-speed"])
            with solara.Column(classes=["pfpp-pause-april"], gap="0px"):
                solara.Checkbox(label="Pause each April (year-end deadlines)", value=pause_each_april)
            RunTo(month, horizon, run_to, disabled=playing)
