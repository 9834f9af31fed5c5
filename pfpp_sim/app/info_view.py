"""The Info panel on the page: what each panel means, things to notice and things to try, from the trainers' guide."""

from __future__ import annotations

import solara

from pfpp_sim.app.guide import info_sections

__all__ = ["InfoButton", "InfoPanel"]


@solara.component
def InfoButton(showing: solara.Reactive[bool]):
    """The header's *Info* button: opens the panel at the top of the page, or closes it."""
    solara.Button(
        "Info", icon_name="mdi-information-outline", text=True, on_click=lambda: showing.set(not showing.value), classes=["pfpp-info-toggle"],
        attributes={"aria-expanded": "true" if showing.value else "false", "title": "What each panel means, things to notice, things to try"},
    )


@solara.component
def InfoPanel(showing: solara.Reactive[bool]):
    """The guide's sections, one at a time, chosen by a row of buttons; nothing when closed."""
    sections = solara.use_memo(info_sections, dependencies=[])
    chosen = solara.use_reactive(next(iter(sections)))
    if not showing.value:
        return
    titles = {title: key for key, (title, _) in sections.items()}
    with solara.Column(classes=["pfpp-info"], gap="4px"):
        with solara.Row(gap="8px", style="align-items: center; flex-wrap: wrap"):
            solara.HTML(tag="h2", unsafe_innerHTML="Info", classes=["pfpp-info-title"])
            solara.ToggleButtonsSingle(
                value=sections[chosen.value][0], values=list(titles), on_value=lambda title: chosen.set(titles[title]), classes=["pfpp-info-tabs"],
            )
            solara.HTML(tag="div", unsafe_innerHTML="", style="flex: 1")
            solara.Button("Close", icon_name="mdi-close", text=True, on_click=lambda: showing.set(False), classes=["pfpp-info-close"])
        with solara.Column(classes=["pfpp-info-text", f"pfpp-info-{chosen.value}"], gap="0px"):
            solara.Markdown(sections[chosen.value][1])
        solara.HTML(tag="div", unsafe_innerHTML="From the trainers' guide, <code>docs/teaching.md</code>.", classes=["pfpp-caption"])
