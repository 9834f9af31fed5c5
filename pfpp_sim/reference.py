"""The reference of scenario and sweep files, generated from their pydantic models.

``docs/reference.md`` is this module's output (``python -m pfpp_sim.reference
docs/reference.md``); a test fails when the file and the models disagree, so the
reference cannot drift from what :func:`~pfpp_sim.scenario.load_scenario` and
:func:`~pfpp_sim.sweep.load_sweep` accept.
"""

from __future__ import annotations

import re
import sys
import types
import typing
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from pfpp_sim.data import PILOT_CODES
from pfpp_sim.design import Parameter
from pfpp_sim.evidence import ASSUMPTIONS, Sourced
from pfpp_sim.scenario import (
    Intervention,
    Levers,
    Programme,
    RunSettings,
    Scenario,
    UserSource,
    list_presets,
    load_scenario,
)
from pfpp_sim.storage import write_text
from pfpp_sim.sweep import MAX_RUNS, SweepSpec

__all__ = ["DEFAULTS_FROM", "main", "reference"]

DEFAULTS_FROM = "siloed_baseline"
"""The preset whose values the reference shows where a key has no default of its own."""


def _type(annotation: Any) -> str:
    """A type annotation as a reader of TOML understands it."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is type(None):
        return "absent"
    if origin is typing.Annotated:
        return _type(args[0])
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        present = [a for a in args if a is not type(None)]
        text = " or ".join(_type(a) for a in present)
        return f"{text} (optional)" if len(present) < len(args) else text
    if origin is list:
        return f"array of {_type(args[0])}"
    if origin is dict:
        return f"table of {_type(args[1])}"
    if annotation is Sourced:
        return "sourced value"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    if annotation is Any:
        return "any value"
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(annotation, str(annotation))


def _limits(info: FieldInfo) -> str:
    """The constraints pydantic checks on a field, e.g. ``0 to 1``."""
    parts, low, high = [], None, None
    optional = typing.get_origin(info.annotation) in (typing.Union, types.UnionType)
    text = info.annotation is str or (optional and str in typing.get_args(info.annotation))
    for item in info.metadata:
        if isinstance(item, at.Ge):
            low = f"≥ {_number(item.ge)}"
        elif isinstance(item, at.Gt):
            low = f"> {_number(item.gt)}"
        elif isinstance(item, at.Le):
            high = f"≤ {_number(item.le)}"
        elif isinstance(item, at.Lt):
            high = f"< {_number(item.lt)}"
        elif isinstance(item, at.MinLen) and item.min_length and text:
            parts.append("not empty")
        elif isinstance(item, at.MinLen) and item.min_length:
            parts.append(f"at least {item.min_length} item{'s' if item.min_length > 1 else ''}")
        elif getattr(item, "pattern", None):
            parts.append(f"matches `{item.pattern}`")
    if low and high:
        parts.insert(0, f"{low[2:]} to {high[2:]}" if low[0] == "≥" and high[0] == "≤" else f"{low}, {high}")
    elif low or high:
        parts.insert(0, low or high)
    return "; ".join(parts)


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _cell(value: Any) -> str:
    """A value as it would be written in TOML, for a table cell."""
    if value is None:
        return "absent"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, list):
        return "`[" + ", ".join(_cell(v).strip("`") for v in value) + "]`"
    if isinstance(value, float):
        return f"`{_number(value)}`"
    return f"`{value}`"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _field_rows(model: type[BaseModel], example: BaseModel | None) -> Iterator[str]:
    """One table row per field of ``model``: key, type, limits, default, meaning."""
    for key, info in model.model_fields.items():
        if info.is_required():
            shown = getattr(example, key, None) if example is not None else None
            example_value = isinstance(shown, (bool, int, float, list)) or (isinstance(shown, str) and len(shown) <= 30)
            default = f"required (e.g. {_cell(shown)})" if example_value else "required"
        else:
            default = _cell(info.get_default(call_default_factory=True))
        description = info.description or ""
        yield f"| `{key}` | {_type(info.annotation)} | {_limits(info)} | {default} | {_escape(description)} |"


def _fields_table(model: type[BaseModel], example: BaseModel | None = None) -> list[str]:
    return ["| Key | Type | Allowed | Default | Meaning |", "|---|---|---|---|---|", *_field_rows(model, example)]


def _evidence_titles() -> dict[str, str]:
    text = resources.files("pfpp_sim.data").joinpath("EVIDENCE.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^\| (E\d\d) \| ([^|]+?) \|", text, flags=re.MULTILINE))


def _sourced_rows(node: BaseModel, prefix: str, titles: dict[str, str]) -> Iterator[str]:
    """One row per sourced value under ``node``: key path, value, unit, range, source and what it is."""
    for key in type(node).model_fields:
        value = getattr(node, key)
        path = f"{prefix}.{key}"
        if isinstance(value, Sourced):
            source = value.source
            if source.startswith("assumption:"):
                meaning = ASSUMPTIONS[source.split(":", 1)[1]].description
            elif source.startswith("calibrated:"):
                meaning = f"fitted by the calibration `{source.split(':', 1)[1]}` (docs/calibration.md)"
            else:
                meaning = "; ".join(titles.get(k, "") for k in re.findall(r"E\d\d", source))
            spread = "" if value.low is None else f"{value.low:g} to {value.high:g}"
            yield f"| `{path}` | {value.value:g} | {value.unit} | {spread} | `{source}` | {_escape(meaning)} |"
        elif isinstance(value, dict) and value and all(isinstance(v, Sourced) for v in value.values()):
            for year, item in value.items():
                spread = "" if item.low is None else f"{item.low:g} to {item.high:g}"
                yield f"| `{path}.{year}` | {item.value:g} | {item.unit} | {spread} | `{item.source}` | |"
        elif isinstance(value, BaseModel):
            yield from _sourced_rows(value, path, titles)


def _sourced_table(node: BaseModel, prefix: str, titles: dict[str, str]) -> list[str]:
    return [
        "| Key | Value | Unit | Plausible range | Source | What it is |",
        "|---|---|---|---|---|---|",
        *_sourced_rows(node, prefix, titles),
    ]


_INTRO = """\
# Scenario and sweep file reference

Generated from the models that validate the files (`python -m pfpp_sim.reference
docs/reference.md`); a test fails when this file is out of date. Every key below is
checked when a file is loaded: unknown keys, values of the wrong type and values outside
their limits are errors naming the file, the key path, the bad value and what was expected.

## Scenario files

A scenario is a TOML file. Most extend a preset and override only what changes:

```toml
name = "my_scenario"                       # letters, digits and underscores
description = "What this scenario stands for"
extends = "siloed_baseline"                # a preset, or a scenario file beside this one

[levers]
pooling = 1.0
```

**How `extends` finds its parent.** `extends` is a bare name, never a path: a preset of
that name (`pfpp scenarios list`), or else `NAME.toml` in the same folder as the file that
names it (not a link to a file elsewhere). A file beside the scenario with the name of a
preset is refused rather than silently used in its place; rename it to extend it. Parents
may themselves extend others (no cycles). Tables merge key by key: a child overrides single
keys of its parent's tables and keeps the rest; arrays and values replace the parent's whole.

**Sourced values.** Every real-world quantity is a table of `value`, `unit`, `source` and
optionally `low` and `high`, e.g. `effect = {{ value = 0.12, unit = "fraction", source =
"E31", low = 0.08, high = 0.16 }}`. `source` is an evidence key of `EVIDENCE.md` (`"E26"`),
arithmetic on keys (`"derived:E51,E52"`), `"assumption:NAME"` naming an entry of the
assumptions registry (`pfpp_sim/evidence.py`), or `"user:KEY"` naming one of your own
sources declared in the file (`[user_sources]`, below); a value citing an assumption or
your own source must carry its plausible `low` and `high`. To change only the number,
override the whole table with a new `value` and keep its unit and source, or cite your own
source.

Defaults shown as "e.g." are the values of the preset `{preset}`, which every other preset
extends, before its calibration: a fit replaces the values it estimates (their source then
reads `calibrated:NAME`; `pfpp scenarios show` prints them after it).

### Top level

{top}

### `[run]`: when, where and at what scale

`places` is `"pilots"` (the {pilots} PfPP pilot authorities), `"all"` (every English
lower-tier authority) or a list of ONS codes (e.g. `["E07000062", "E06000032"]`). `scale`
is simulated residents per real resident (`0.01` is 1:100), floored per place by the two
minimum counts. `pfpp run`, `compare`, `explain` and `robustness` take `--places`,
`--horizon` and `--scale` to override these three.

{run}

### `[levers]`: how government works with the place

The levers are what distinguishes joined-up from siloed working; every preset but
`{preset}` sets some of them. Absent optional levers leave each stream's own setting.

{levers}

### `[programmes.NAME]`: funding streams

Each stream is a table under `programmes`, keyed by a name of letters, digits and
underscores. The order of the tables is kept (it sets the order streams act in). A
ring-fenced stream (`ring_fenced = true`) stays out of the pooled budget whatever
`levers.pooling` says. A scenario adds a stream by writing a new table with every required
key, or changes one by overriding single keys, e.g. `[programmes.careers]` then
`ring_fenced = true`.

{programme}

The streams of `{preset}`:

{streams}

### `[interventions.NAME]`: what money buys

One table per intervention: {interventions}.

{intervention}

### `[world]` and `[mechanisms]`: every sourced quantity of `{preset}`

{sourced}

#### `world.trend_damping`

Optional, and not set in `{preset}`: how a place's fitted trends go on after the data years
they were fitted to. Unset (or 0), they hold still at the data end; set, their rate is
multiplied by it each year after the data end, a damped trend (`pfpp_sim/trends.py`), and a
run that starts after a series' latest data starts from its latest published rate moved by
the trend so damped. `baseline_forecast` sets it to 0, the low end of its range, as the
published series show no place trend going on from one year to the next
(`assumption:trend_damping`); raise it to carry fitted trends on, e.g.:

```toml
[world]
trend_damping = {{ value = 0.5, unit = "fraction/year", source = "assumption:trend_damping", low = 0.0, high = 0.5 }}
```

### `[user_sources.KEY]`: your own sources and assumptions

A scenario may declare its own sources, each a table under `user_sources` keyed by a name
of letters, digits and underscores, and cite them from any sourced value as
`source = "user:KEY"`:

```toml
[user_sources.council_outreach_survey]
description = "Share of young people reached who stayed in education or work, our 2023 survey"
reference = "Luton Borough Council youth service survey 2023, table 2"
range_reason = "the survey's 95% interval"

[interventions.asb_outreach]
effect = {{ value = 0.08, unit = "fraction", source = "user:council_outreach_survey", low = 0.04, high = 0.12 }}
```

They are checked like the registry: a value citing a key that no `[user_sources]` table
declares is an error naming the file, the key path and the source, and a value citing one
must carry `low` and `high`. They are treated as assumptions: replicates use the value,
`pfpp robustness` samples the range (with the registry's assumptions), and reports list them
among the assumptions as the analyst's own, with their reference. They merge through
`extends` like any table, count in the scenario hash and are recorded in the manifest.

{user_source}

### `calibration`

A scenario may name a fitted calibration: `calibration = "pilots"` (a fit shipped with
the package, or `calibration/fitted/pilots.toml` in the working folder, which then replaces
it), or `"none"`. `pfpp run --calibration` overrides it. Loading embeds the fitted
per-place trends and any fitted global values (their `source` becomes `"calibrated:NAME"`).

## Sweep files

A sweep spec is a TOML file naming a base scenario, fixed overrides, the parameters to vary
and a design:

```toml
name = "levers_lhs"
base = "siloed_baseline"      # a preset, or a scenario file (.toml) relative to this file
design = "lhs"
samples = 64
replicates = 2
keep_places = true            # per-place summaries too, not only all places together

[overrides]
"run.horizon_months" = 36

[parameters]
"levers.pooling" = {{ low = 0.0, high = 1.0 }}
"levers.carry_over" = {{ levels = [false, true] }}
```

Parameter and override keys are scenario key paths (`levers.pooling`,
`programmes.careers.ring_fenced`, `mechanisms.trust_threshold.value`); every value of the
design is checked against the scenario before the first run.

{sweep}

### `[parameters."KEY"]`

Either `low` and `high` (a continuous range; `integer = true` rounds; `steps` sets the grid
points of a `grid` design) or `levels` (a list of values taken as they are).

{parameter}

### How many runs a design makes

With D parameters and R `replicates`:

| `design` | Design points | Runs |
|---|---|---|
| `grid` | the product of each parameter's grid (`steps`, or the number of `levels`) | points × R |
| `lhs` | `samples` | `samples` × R |
| `sobol` | `samples` × (D + 2) (Saltelli, first and total order; `samples` a power of two) | `samples` × (D + 2) × R |
| `morris` | `samples` × (D + 1) (trajectories on `morris_levels` levels) | `samples` × (D + 1) × R |

A sweep may have at most {max_runs:,} runs. `pfpp sweep SPEC --dry-run` prints the count
of a spec without running it.
"""


def reference() -> str:
    """The reference of scenario and sweep files, as Markdown.

    Returns
    -------
    str
        The content of ``docs/reference.md``.
    """
    base = load_scenario(DEFAULTS_FROM, calibration="none")
    titles = _evidence_titles()
    first = next(iter(base.programmes.values()))
    streams = ["| Stream | Department | Ring-fenced | What it is |", "|---|---|---|---|"] + [
        f"| `{key}` | {p.department} | {_cell(p.ring_fenced)} | {_escape(p.description)} |" for key, p in base.programmes.items()
    ]
    sourced = [
        f"#### `[{section}]`\n\n" + "\n".join(_sourced_table(getattr(base, section.split('.')[0]) if "." not in section
                                                             else getattr(base.world, section.split('.')[1]), section, titles))
        for section in ("world.households", "world.young_people", "mechanisms")
    ]
    text = _INTRO.format(
        preset=DEFAULTS_FROM,
        pilots=len(PILOT_CODES),
        top="\n".join(_fields_table(Scenario, base)),
        run="\n".join(_fields_table(RunSettings, base.run)),
        levers="\n".join(_fields_table(Levers, base.levers)),
        programme="\n".join(_fields_table(Programme, first)),
        streams="\n".join(streams),
        interventions=", ".join(f"`{k}`" for k in type(base.interventions).model_fields),
        intervention="\n".join(_fields_table(Intervention)),
        user_source="\n".join(_fields_table(UserSource)),
        sourced="\n\n".join(sourced),
        sweep="\n".join(_fields_table(SweepSpec)),
        parameter="\n".join(_fields_table(Parameter)),
        max_runs=MAX_RUNS,
    )
    presets = ", ".join(f"`{p}`" for p in list_presets())
    return text + f"\nPresets: {presets}.\n"


def main(argv: list[str] | None = None) -> None:
    """Write the reference to the file named on the command line (default ``docs/reference.md``)."""
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "docs/reference.md")
    write_text(reference(), path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
