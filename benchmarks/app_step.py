"""Teaching app responsiveness: one step of both runs plus re-rendering the page.

Run ``python -m benchmarks.app_step [--steps 24]`` (needs the ``app`` extra). It renders
the app's page as the server does (default place Hastings, scale 0.01), presses Step
``--steps`` times, and reports the server-side seconds per press (both models step one
month, every chart, monitor, narrative and funding-flow diagram is rebuilt). The browser's
own drawing time is not included. Target: well under 1 s per step (DESIGN.md, issue 6).
Results go to ``benchmarks/results/app_step.{json,md}`` (written atomically).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from pfpp_sim.storage import git_commit, write_json, write_text

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_S = 1.0


def _find(root, css_class: str):
    """First widget below ``root`` with a CSS class (Solara/ipyvue widget tree)."""
    stack = [root]
    while stack:
        widget = stack.pop()
        classes = (getattr(widget, "attributes", None) or {}).get("class", "").split() + (getattr(widget, "class_", None) or "").split()
        if css_class in classes:
            return widget
        slotted = [c for slot in (getattr(widget, "v_slots", None) or []) for c in (slot.get("children") or [])]
        stack.extend(c for c in [*(getattr(widget, "children", None) or []), *slotted] if hasattr(c, "keys"))
    raise LookupError(css_class)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=24)
    args = parser.parse_args(argv)
    import solara

    from pfpp_sim.app.page import Page

    box, _ = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    step = _find(box, "pfpp-step")
    seconds = []
    for _ in range(args.steps):
        started = time.perf_counter()
        step.fire_event("click", {})
        seconds.append(time.perf_counter() - started)
    month = _find(box, "pfpp-month").unsafe_innerHTML
    result = {
        "benchmark": "app_step",
        "steps": args.steps,
        "shown_after": month,
        "median_s": round(statistics.median(seconds), 4),
        "max_s": round(max(seconds), 4),
        "target_s": TARGET_S,
        "meets_target": max(seconds) < TARGET_S,
        "git_commit": git_commit(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_json(result, RESULTS / "app_step.json")
    write_text(
        "# Teaching app step\n\n`python -m benchmarks.app_step`: one press of Step (both runs step a month and the "
        f"page re-renders, server side), {args.steps} presses from month 0, commit {result['git_commit']}.\n\n"
        f"| median s/step | max s/step | target |\n|---:|---:|---:|\n| {result['median_s']} | {result['max_s']} | < {TARGET_S:.0f} s |\n",
        RESULTS / "app_step.md",
    )
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
