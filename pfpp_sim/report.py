"""Reports: one self-contained HTML file for a run, comparison, sweep or robustness folder, with its figures as PNGs.

``pfpp report FOLDER`` reads what ``pfpp run``, ``compare``, ``sweep`` or ``robustness`` saved (the kind
is in ``manifest.json``) and writes ``report.html``, with every figure embedded, and the
same figures as ``figures/*.png``. Every image has alt text that states what it shows
and its headline numbers. The sections themselves are built in :mod:`pfpp_sim.sections`.
"""

from __future__ import annotations

import base64
import json
import re
from html import escape
from pathlib import Path

import pandas as pd

from pfpp_sim import charts
from pfpp_sim.analysis import ALL_PLACES, all_places_note
from pfpp_sim.assumption_sections import assumptions_appendix, assumptions_section
from pfpp_sim.errors import PfppError
from pfpp_sim.money_sections import flow_section, money_section
from pfpp_sim.outcomes import EQUITY_MEASURES
from pfpp_sim.robustness_sections import robustness_sections
from pfpp_sim.scenario_sections import what_differs_section
from pfpp_sim.sections import (
    Section,
    attribution_section,
    equity_section,
    forest_section,
    manifest_section,
    summary_section,
    sweep_sections,
    trajectory_section,
)
from pfpp_sim.storage import read_table, write_bytes, write_text

__all__ = ["EXPECTED", "read_manifest", "render_html", "report_sections", "write_report"]

EXPECTED = "a folder written by 'pfpp run', 'pfpp compare', 'pfpp explain', 'pfpp sweep' or 'pfpp robustness', with its manifest.json"


def read_manifest(folder: str | Path) -> dict:
    """The manifest of a results folder, checked to be a finished run, comparison, explanation, sweep or robustness run.

    Raises
    ------
    PfppError
        In one line naming the folder and what was expected, if the folder is missing,
        has no readable manifest, is of another kind, or holds an unfinished sweep or robustness run.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise PfppError(f"{folder}: no such folder (expected {EXPECTED})")
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise PfppError(f"{folder}: no manifest.json (expected {EXPECTED})") from err
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise PfppError(f"{folder}/manifest.json is not readable JSON ({err.__class__.__name__}; expected {EXPECTED})") from err
    kind = manifest.get("kind") if isinstance(manifest, dict) else None
    if kind not in ("run", "compare", "explain", "sweep", "robustness"):
        raise PfppError(
            f"{folder}/manifest.json is of kind {kind!r} (expected run, compare, explain, sweep or robustness: {EXPECTED}; "
            "rerun folders from older versions)"
        )
    if kind in ("sweep", "robustness") and not manifest.get("complete"):
        raise PfppError(f"{folder} holds an unfinished {kind} (expected a finished one: rerun 'pfpp {kind}' with --resume)")
    needed = {"run": ("scenarios", "seed", "replicates"), "compare": ("scenarios", "seed", "replicates", "base", "alternative"),
              "explain": ("base", "alternative", "seed", "replicates"), "sweep": ("name", "spec", "seed"),
              "robustness": ("scenarios", "seed", "replicates", "base", "alternative")}[kind]
    missing = [key for key in needed if key not in manifest]
    scenarios = manifest.get("scenarios", {})
    if not missing and kind not in ("sweep", "explain"):
        missing = [f"scenarios.{name}.{key}" for name, entry in scenarios.items() for key in ("hash", "parameters")
                   if not isinstance(entry, dict) or key not in entry]
        missing += [f"scenarios.{manifest[role]}" for role in ("base", "alternative") if role in manifest and manifest[role] not in scenarios]
    if missing:
        raise PfppError(f"{folder}/manifest.json lacks {missing[0]} (expected the manifest its command writes; rerun that command)")
    return manifest


def _read(folder: Path, name: str) -> pd.DataFrame:
    return read_table(folder / f"{name}.parquet")


def _read_equity(folder: Path) -> pd.DataFrame:
    """``equity.parquet``, checked to hold every measure the report shows (older folders lack NEET 16-17)."""
    equity = _read(folder, "equity")
    missing = [m for m in EQUITY_MEASURES if m not in equity]
    if missing:
        raise PfppError(
            f"{folder}/equity.parquet lacks {missing[0]} (written by an older pfpp_sim; rerun the command that wrote the folder)"
        )
    return equity


def _check_labels(folder: Path, comparison: pd.DataFrame, manifest: dict) -> None:
    """The comparison's own base and alternative must be the manifest's (else the report would mislabel them)."""
    for role in ("base", "alternative"):
        in_table = set(comparison[role]) if role in comparison else set()
        if in_table != {manifest[role]}:
            raise PfppError(
                f"{folder}: manifest.json names {manifest[role]!r} as the {role} but comparison.parquet holds "
                f"{', '.join(sorted(map(repr, in_table))) or 'none'}: the folder is inconsistent; rerun the comparison"
            )


def _attribution(folder: Path, manifest: dict) -> Section:
    return attribution_section(_read(folder, "attribution"), _read(folder, "combinations"), manifest)


def report_sections(folder: str | Path) -> tuple[str, list[Section]]:
    """The title and sections of the report of a results folder.

    Parameters
    ----------
    folder : str or Path
        Written by ``pfpp run``, ``compare``, ``sweep`` or ``robustness``.

    Returns
    -------
    title : str
    sections : list of Section
        Run: what was run, summary, trajectories, money, flows, equity, assumptions,
        manifest, appendix of every assumption. A comparison opens with what differs
        instead, and adds paired differences, and what drives them when it was run with
        ``--explain`` (an ``explain/`` subfolder). An explanation: what differs, what
        drives the difference, manifest. A sweep: design, sensitivity, manifest. A
        robustness run: what differs, would it hold, what moves the difference, sampled
        assumptions, assumptions, manifest, appendix.

    Raises
    ------
    PfppError
        If the folder is not a finished run, comparison, explanation, sweep or robustness run.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest["kind"] == "explain":
        return f"pfpp_sim report: what drives {manifest['alternative']} vs {manifest['base']}", [
            what_differs_section(manifest, [manifest["base"], manifest["alternative"]]),
            _attribution(folder, manifest),
            manifest_section(manifest, folder),
        ]
    if manifest["kind"] == "sweep":
        return f"pfpp_sim report: sweep {manifest['name']}", [
            *sweep_sections(folder, manifest),
            manifest_section(manifest, folder),
        ]
    if manifest["kind"] == "robustness":
        scenarios = [manifest["base"], manifest["alternative"]]
        return f"pfpp_sim report: would {scenarios[1]} vs {scenarios[0]} hold?", [
            what_differs_section(manifest, scenarios),
            *robustness_sections(folder),
            assumptions_section(manifest, scenarios),
            manifest_section(manifest, folder),
            assumptions_appendix(manifest, scenarios),
        ]
    compared = manifest["kind"] == "compare"
    scenarios = [manifest["base"], manifest["alternative"]] if compared else list(manifest["scenarios"])
    monthly, places, awards = _read(folder, "monthly"), _read(folder, "places"), _read(folder, "awards")
    comparison = _read(folder, "comparison") if compared else None
    if comparison is not None:
        _check_labels(folder, comparison, manifest)
    place_names = places.drop_duplicates("place_code").set_index("place_code")["place_name"].to_dict()
    names = {**place_names, ALL_PLACES: "All places"}
    sections = [
        what_differs_section(manifest, scenarios, place_names),
        summary_section(_read(folder, "summary"), comparison, manifest, scenarios, all_places_note(places)),
    ]
    if comparison is not None:
        sections.append(forest_section(comparison, names, places))
        if (folder / "explain" / "manifest.json").is_file():
            sections.append(_attribution(folder / "explain", read_manifest(folder / "explain")))
    sections += [
        trajectory_section(monthly, places, names, scenarios),
        money_section(awards, manifest["replicates"], scenarios),
        flow_section(awards, _read(folder, "spending"), scenarios, manifest),
        equity_section(_read_equity(folder), places, scenarios),
        assumptions_section(manifest, scenarios),
        manifest_section(manifest, folder),
        assumptions_appendix(manifest, scenarios),
    ]
    title = f"pfpp_sim report: {' vs '.join(reversed(scenarios))}" if compared else f"pfpp_sim report: {scenarios[0]}"
    return title, sections


_CSS = """
body { font-family: Arial, Helvetica, sans-serif; color: #0b0c0c; max-width: 1100px; margin: 2em auto; padding: 0 1em; line-height: 1.4; }
h1 { font-size: 1.8em; } h2 { border-top: 2px solid #12436D; padding-top: 0.6em; margin-top: 2em; }
nav ol { columns: 2; } table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border-bottom: 1px solid #b1b4b6; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
.num { text-align: right; white-space: nowrap; } figure { margin: 1.5em 0; } img { max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #505a5f; }
#what-differs, #what-was-run { background: #f3f2f1; border-left: 6px solid #12436D; padding: 0.2em 1em 0.6em; }
#what-differs h2, #what-was-run h2 { border-top: none; margin-top: 0.4em; }
table.differs th[scope=row] { font-weight: normal; } table.differs small { color: #505a5f; } .kind { color: #505a5f; }
"""


def _slug(title: str) -> str:
    """A section's id: ``"Appendix: every assumption"`` -> ``"appendix-every-assumption"``."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def render_html(title: str, sections: list[Section], images: dict[str, bytes]) -> str:
    """A self-contained HTML page: contents, then each section with its figures embedded as PNG."""
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1><nav aria-label='Contents'><ol>",
    ]
    parts += [f"<li><a href='#{_slug(s.title)}'>{escape(s.title)}</a></li>" for s in sections]
    parts.append("</ol></nav><main>")
    for section in sections:
        parts.append(f"<section id='{_slug(section.title)}'><h2>{escape(section.title)}</h2>{section.body}")
        for name, alt, _ in section.figures:
            data = base64.b64encode(images[name]).decode("ascii")
            parts.append(
                f"<figure><img src='data:image/png;base64,{data}' alt='{escape(alt, quote=True)}'>"
                f"<figcaption>Figure file: figures/{escape(name)}.png</figcaption></figure>"
            )
        parts.append("</section>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


def write_report(folder: str | Path) -> dict[str, Path]:
    """Write ``report.html`` and ``figures/*.png`` into a results folder (atomically).

    Parameters
    ----------
    folder : str or Path
        Written by ``pfpp run``, ``compare``, ``sweep`` or ``robustness``.

    Returns
    -------
    dict of str to Path
        ``"report"`` and one entry per figure.

    Raises
    ------
    PfppError
        If the folder is not a finished run, comparison, sweep or robustness run, or cannot be written.
    """
    folder = Path(folder)
    title, sections = report_sections(folder)
    images, files = {}, {}
    for section in sections:
        for name, _, figure in section.figures:
            images[name] = charts.png_bytes(figure)
            files[name] = write_bytes(images[name], folder / "figures" / f"{name}.png")
    files["report"] = write_text(render_html(title, sections, images), folder / "report.html")
    return files
