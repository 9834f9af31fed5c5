"""The page's header: the title, and the buttons that show or hide the controls and switch presentation mode on and off.

The page draws its own drawer rather than Solara's app layout, whose drawer toggle shows
no icon with the app's icon set, and whose drawer covers the page on a narrow (zoomed)
screen. Presentation mode is for a projector: the drawer closes, charts are drawn one
a row in each column (twice the size), cards wrap instead of clipping, and the narrative
shows every line (:mod:`pfpp_sim.app.style`).
"""

from __future__ import annotations

import solara

__all__ = ["Header"]


@solara.component
def Header(*, drawer_open: solara.Reactive[bool], presenting: solara.Reactive[bool], children: list | None = None):
    """The header bar: the drawer's toggle and the title on the left; ``children`` (e.g. exports), then presentation mode, on the right."""

    def present(on: bool) -> None:
        presenting.set(on)
        drawer_open.set(not on)

    with solara.Row(classes=["pfpp-header"], gap="8px", style="align-items: center"):
        shown = drawer_open.value
        solara.Button(
            "Hide controls" if shown else "Controls", icon_name="mdi-menu-open" if shown else "mdi-tune",
            on_click=lambda: drawer_open.set(not shown), text=True, classes=["pfpp-drawer-toggle"],
            attributes={"aria-expanded": "true" if shown else "false", "title": "Show or hide the place, seed, presets and levers"},
        )
        solara.HTML(tag="h1", unsafe_innerHTML="pfpp_sim: siloed vs joined-up funding", classes=["pfpp-title"])
        solara.HTML(tag="div", unsafe_innerHTML="", style="flex: 1")
        solara.Row(children=children or [], gap="0px", style="align-items: center")
        solara.Button(
            "Leave presentation" if presenting.value else "Presentation mode",
            icon_name="mdi-projector" if presenting.value else "mdi-projector-screen",
            on_click=lambda: present(not presenting.value), text=True, classes=["pfpp-present"],
            attributes={"aria-pressed": "true" if presenting.value else "false", "title": "Larger charts for a projector; the controls close"},
        )
