"""The left drawer: place, scale, seed, presets and levers, each lever showing its value and whether the room changed it.

Every lever's current value is printed beside its name (a slider's also on its thumb),
so the room can read it from the back; a lever that no longer has its preset's value is
marked *changed* with the preset's value, and the right-hand heading counts them
(:func:`pfpp_sim.app.session.your_side_title`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from html import escape
from typing import Any

import solara

from pfpp_sim.app.session import (
    LEVER_CHOICES,
    LEVER_LABELS,
    SCALES,
    Settings,
    changed_levers,
    lever_text,
    parse_seed,
    pilot_places,
    preset,
    preset_label,
    preset_order,
    run_differences,
)
from pfpp_sim.errors import PfppError
from pfpp_sim.scenario import Levers, list_presets

__all__ = ["Controls", "SeedBox", "lever_heading"]

SLIDERS = ("pooling", "data_sharing", "local_priority_weight")
SWITCHES = (
    "timeline_alignment", "carry_over", "single_point_of_contact", "policy_campus", "secondments", "senior_contact", "funding_mapping"
)


def lever_heading(settings: Settings, name: str) -> str:
    """A lever's name and current value as HTML, marked ``changed`` with the preset's value when the room changed it.

    Parameters
    ----------
    settings : Settings
    name : str
        A key of :data:`~pfpp_sim.app.session.LEVER_LABELS`.

    Returns
    -------
    str
        E.g. ``Pooling (share of each stream): <b>50%</b> <span class='pfpp-changed'>changed;
        preset 100%</span>``.
    """
    value = getattr(settings.levers, name)
    html = f"{escape(LEVER_LABELS[name])}: <b class='pfpp-lever-value'>{escape(lever_text(name, value))}</b>"
    if name in changed_levers(settings):
        was = lever_text(name, getattr(preset(settings.preset).levers, name))
        html += f" <span class='pfpp-changed'>changed; preset {escape(was)}</span>"
    return html


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
    changed = set(changed_levers(s))

    def set_lever(name: str) -> Callable[[Any], None]:
        return lambda value: change(lambda now: now.with_lever(name, value))

    def heading(name: str) -> None:
        solara.HTML(tag="div", unsafe_innerHTML=lever_heading(s, name), classes=["pfpp-lever-label", f"pfpp-lever-label-{name}"])

    def caption(name: str) -> None:
        solara.HTML(tag="div", unsafe_innerHTML=Levers.model_fields[name].description, classes=["pfpp-caption"])

    def box(name: str) -> list[str]:
        return [f"pfpp-lever-{name}", *(["pfpp-lever-changed"] if name in changed else [])]

    with solara.Column(classes=["pfpp-sidebar"], gap="4px"):
        solara.HTML(tag="h3", unsafe_innerHTML="Place and run")
        solara.Select("Place", values=list(codes), value=names[s.place], on_value=lambda n: change(lambda now: replace(now, place=codes[n])), classes=["pfpp-place"])
        solara.Select("Scale (simulated per real resident)", values=list(SCALES), value=s.scale, on_value=lambda v: change(lambda now: replace(now, scale=v)))
        SeedBox(s.seed, lambda seed: change(lambda now: replace(now, seed=seed)))
        solara.HTML(tag="h3", unsafe_innerHTML="Presets for your side")
        offered = preset_order()
        with solara.Row(gap="4px", style="flex-wrap: wrap"):
            for name in offered:  # described by the browser's own tooltip, which never outlives the pointer
                solara.Button(
                    preset_label(name), on_click=lambda name=name: change(lambda now: now.with_preset(name)),
                    color="primary" if name == s.preset else None, outlined=name != s.preset, classes=[f"pfpp-preset-{name}"],
                    attributes={"title": preset(name).description},
                )
        left_out = [f"<i>{preset_label(n)}</i> ({'; '.join(run_differences(n))})" for n in list_presets() if n not in offered]
        if left_out:
            solara.HTML(
                tag="div", unsafe_innerHTML=f"Not offered, as the siloed side is not run that way: {', '.join(left_out)}.",
                classes=["pfpp-caption", "pfpp-presets-left-out"],
            )
        solara.HTML(tag="h3", unsafe_innerHTML="Levers for your side")
        # Always there, empty when nothing changed: an element that came and went would shift the
        # sliders below it, and Solara would make them anew, losing the focus of the one being moved.
        solara.HTML(
            tag="div",
            unsafe_innerHTML=f"{len(changed)} changed from <i>{escape(preset_label(s.preset))}</i>: press the preset to undo." if changed else "",
            classes=["pfpp-caption", "pfpp-levers-changed"],
        )
        for name in SLIDERS:
            heading(name)
            with solara.Column(classes=box(name), gap="0px"):
                solara.SliderFloat("", value=getattr(s.levers, name), min=0.0, max=1.0, step=0.1, on_value=set_lever(name), thumb_label="always")
            caption(name)
        for name in SWITCHES:
            heading(name)
            solara.Switch(label="on" if getattr(s.levers, name) else "off", value=getattr(s.levers, name), on_value=set_lever(name), color="primary", classes=box(name))
            caption(name)
        for name, choices in LEVER_CHOICES.items():
            heading(name)
            value, ours = getattr(s.levers, name), getattr(preset(s.preset).levers, name)
            options = {lever_text(name, v): v for v in choices}
            if ours not in choices:
                options[f"{lever_text(name, ours)} (the preset's)"] = ours
            if value not in options.values():  # e.g. from another preset whose value the room kept
                options[lever_text(name, value)] = value
            current = next(k for k, v in options.items() if v == value)
            with solara.Column(classes=box(name), gap="0px"):
                solara.Select("", values=list(options), value=current, on_value=lambda k, name=name, options=options: set_lever(name)(options[k]))
            caption(name)
