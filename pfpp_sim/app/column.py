"""One column of the page: a side's heading, its own month, cards, charts, narrative and funding flow."""

from __future__ import annotations

import solara

from pfpp_sim.app.charts import BASELINE_COLOUR, CHOSEN_COLOUR
from pfpp_sim.app.frame import SideFrame

__all__ = ["Side"]


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
