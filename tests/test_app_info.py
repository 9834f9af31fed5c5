"""The teaching app's Info panel, read from docs/teaching.md itself, and the guide's screenshot caption, read from the app."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from widgets import render_page, widgets_with_class

from pfpp_sim.app.address import read_address
from pfpp_sim.app.frame import build_frame
from pfpp_sim.app.guide import INFO_SECTIONS, guide_sections, info_sections, screenshot_caption, teaching_guide
from pfpp_sim.app.sides import Sides
from pfpp_sim.errors import PfppError

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "teaching.md"


def test_the_app_reads_the_trainers_guide_itself_not_a_copy():
    assert teaching_guide() == GUIDE.read_text(encoding="utf-8")


def test_each_info_tab_shows_its_section_of_the_guide_as_written():
    written = guide_sections(GUIDE.read_text(encoding="utf-8"))
    shown = info_sections()
    assert list(shown) == list(INFO_SECTIONS)
    for key, (title, heading) in INFO_SECTIONS.items():
        assert shown[key] == (title, written[heading]), key
    assert "**Difference strip.**" in shown["panels"][1]
    assert "| time | do | ask the room |" in shown["try"][1]


def test_sections_are_split_at_second_level_headings_only():
    text = "# Title\n\nIntro.\n\n## One\n\nFirst.\n### Under one\nMore.\n\n## Two  \nSecond.\n"
    assert guide_sections(text) == {"One": "First.\n### Under one\nMore.", "Two": "Second."}


def test_a_section_renamed_in_the_guide_is_named_in_one_line():
    with pytest.raises(PfppError, match=r"docs/teaching.md: ## The screen = \(missing\): a section the app's Info panel shows; found One"):
        info_sections("## One\n\ntext\n")


def markdown_shown(box) -> str:
    """The HTML Solara's Markdown made of the tab shown (its Vue template holds it, as text or in a Template widget)."""
    (text,) = widgets_with_class(box, "pfpp-info-text")
    template = text.children[0].template
    return template if isinstance(template, str) else template.template


def test_the_info_button_opens_the_panel_on_each_section_and_close_closes_it():
    box, _ = render_page()
    assert not widgets_with_class(box, "pfpp-info")
    widgets_with_class(box, "pfpp-info-toggle")[0].fire_event("click", {})
    assert widgets_with_class(box, "pfpp-info-panels")
    assert "<strong>Difference strip.</strong>" in markdown_shown(box)
    (tabs,) = widgets_with_class(box, "pfpp-info-tabs")
    tabs.v_model = "Things to try"
    assert widgets_with_class(box, "pfpp-info-try")
    assert "<th>ask the room</th>" in markdown_shown(box)
    widgets_with_class(box, "pfpp-info-close")[0].fire_event("click", {})
    assert not widgets_with_class(box, "pfpp-info")


FIGURE = re.compile(r"£[\d,]+(?:\.\d+)?m?|\d+(?:\.\d+)?%|(?<![\w.£])\d[\d,]*(?![\w.%])")
"""A figure as the app prints it: money, a percentage, or a count."""


def shown_figures(link: str) -> set[str]:
    """Every figure the page shows at ``link``: toolbar, difference strip, *Why the money differs*, both sides' cards."""
    settings, month = read_address(link)
    sides = Sides.start(settings)
    sides.run_to(month)
    with sides.reading() as now:
        frame = build_frame(now)
    html = " ".join([frame.month_text, frame.difference_html, frame.causes_html, frame.left.cards_html, frame.right.cards_html])
    return set(FIGURE.findall(re.sub(r"<[^>]+>", " ", unescape(html)).replace("\u2212", "")))


def test_every_figure_of_the_screenshots_caption_is_one_the_app_shows_at_the_captions_address():
    link, caption = screenshot_caption()
    settings, month = read_address(link)
    assert (settings.place, settings.seed, month) == ("E07000062", 1, 27)
    described = caption.replace(link, "")
    described = re.sub(r"\b(seed 1|month 27|June 2023|April)\b", "", described)
    figures = set(FIGURE.findall(described))
    assert {"£315,085", "£4.91m", "14.4%"} <= figures, figures
    assert figures - shown_figures(link) == set(), "a figure the app does not show at the caption's address"


def test_a_guide_without_a_caption_naming_an_address_is_refused():
    with pytest.raises(PfppError, match="img/app.png = \\(no caption\\)"):
        screenshot_caption("![app](img/app.png)\n\n*Hastings in June.*\n")
    assert screenshot_caption("![app](img/app.png)\n\n*Hastings `?month=3`\nin April.*\n\nNext.") == ("?month=3", "Hastings `?month=3` in April.")
