"""The in-app Info panel's text: sections of the trainers' guide, ``docs/teaching.md``, read as it is.

There is one copy of the text: ``pfpp_sim/app/teaching.md`` is a link to
``docs/teaching.md`` (a wheel holds the file itself), so what the Info panel says is what
the guide says. The panel shows three of the guide's sections: *The screen* (what each
panel means), *Things to know* (things to notice) and *A 45-minute session* (things to
try).
"""

from __future__ import annotations

import re
from importlib import resources

from pfpp_sim.errors import PfppError

__all__ = ["INFO_SECTIONS", "guide_sections", "info_sections", "screenshot_caption", "teaching_guide"]

INFO_SECTIONS = {
    "panels": ("What each panel means", "The screen"),
    "notice": ("Things to notice", "Things to know"),
    "try": ("Things to try", "A 45-minute session"),
}
"""Each tab of the Info panel: its title, and the heading of the guide's section it shows."""


def teaching_guide() -> str:
    """The trainers' guide (``docs/teaching.md``) as Markdown text."""
    return resources.files("pfpp_sim.app").joinpath("teaching.md").read_text(encoding="utf-8")


def guide_sections(text: str) -> dict[str, str]:
    """A Markdown text's second-level sections by heading, each without its heading line.

    Parameters
    ----------
    text : str
        Markdown; sections start at lines ``## Heading``.

    Returns
    -------
    dict of str to str
        Heading -> the section's Markdown, stripped of blank lines at either end.
    """
    parts = re.split(r"^## +(.+?) *$", text, flags=re.MULTILINE)
    return {heading: body.strip("\n") for heading, body in zip(parts[1::2], parts[2::2])}


def info_sections(text: str | None = None) -> dict[str, tuple[str, str]]:
    """The Info panel's tabs: key -> (title, Markdown of the guide's section).

    Parameters
    ----------
    text : str, optional
        The guide (default :func:`teaching_guide`).

    Returns
    -------
    dict of str to (str, str)
        In :data:`INFO_SECTIONS` order.

    Raises
    ------
    PfppError
        If the guide has no section of a heading the panel shows (it was renamed).
    """
    sections = guide_sections(teaching_guide() if text is None else text)
    missing = [heading for _, heading in INFO_SECTIONS.values() if heading not in sections]
    if missing:
        raise PfppError(f"docs/teaching.md: ## {missing[0]} = (missing): a section the app's Info panel shows; found {', '.join(sections)}")
    return {key: (title, sections[heading]) for key, (title, heading) in INFO_SECTIONS.items()}


def screenshot_caption(text: str | None = None) -> tuple[str, str]:
    """The guide's screenshot caption, and the link (a query string) of the app state it describes.

    The caption is the (italic) paragraph after the image ``img/app.png``; it names the
    state it shows as a link in backticks (```?place=...&month=27```).
    ``tools/app_screenshot.py`` opens that link to take the screenshot, and a test checks
    that every figure of the caption is one the app shows there.

    Parameters
    ----------
    text : str, optional
        The guide (default :func:`teaching_guide`).

    Returns
    -------
    link : str
        E.g. ``?place=E07000062&scale=0.01&seed=1&preset=pfpp_joined_up&month=27``.
    caption : str
        The caption's Markdown, on one line.

    Raises
    ------
    PfppError
        If the guide has no image ``img/app.png`` followed by an italic caption naming a link.
    """
    found = re.search(r"!\[[^\]]*\]\(img/app\.png\)[ \t]*\n[ \t]*\n(?P<caption>(?:[^\n]+\n?)+)", teaching_guide() if text is None else text)
    caption = " ".join(found["caption"].split()).strip("*") if found else ""
    link = re.search(r"`(\?[^`]+)`", caption)
    if link is None:
        raise PfppError("docs/teaching.md: img/app.png = (no caption): a paragraph after the image naming the app's state as a `?place=...` link")
    return link.group(1), caption
