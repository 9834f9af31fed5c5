"""Hypothesis strategies and checks shared by the property tests of the scenario and sweep loaders."""

from __future__ import annotations

import functools
import json
import math
from datetime import date
from pathlib import Path

from hypothesis import strategies as st

from pfpp_sim.errors import ScenarioError
from pfpp_sim.scenario import load_scenario

# Strings a hand-written file plausibly holds, and ones that break naive code: paths,
# unicode, control characters, newlines and Rich markup (the CLI prints errors with Rich).
AWKWARD_STRINGS = [
    "E00", "E26", "derived:E51,E52", "assumption:foo", "assumption:trust", "siloed_baseline", "pfpp_joined_up",
    "child", "../etc/passwd", "/etc/passwd", "GBP/household/year", "households", "young_people", "DWP", "pooled",
    "2021-04", "pilots", "all", "", "\u00e9t\u00e9 \u2603 \U0001f525", "\x7f", "two\nlines", "[/bold]", "[red]x",
    "levers.pooling", "run.places", "x.toml",
]
SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(AWKWARD_STRINGS),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
KEYS = st.text(min_size=1, max_size=10) | st.sampled_from(AWKWARD_STRINGS)


def to_toml(value) -> str:
    """Serialise a value as a TOML (inline) value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(to_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{to_toml(str(k))} = {to_toml(v)}" for k, v in value.items()) + "}"


def write_toml(path: Path, data: dict) -> Path:
    """Write a dict as a TOML file of top-level ``key = inline value`` lines."""
    path.write_text("\n".join(f"{to_toml(str(k))} = {to_toml(v)}" for k, v in data.items()) + "\n", encoding="utf-8")
    return path


def mutate(draw, document: dict, tables: list[tuple[tuple[str, ...], tuple[str, ...]]]) -> dict:
    """Apply one to three random mutations to ``document`` (in place) and return it.

    Each mutation picks a table of a valid document (``tables``: path and keys) and
    deletes one of its keys or sets a known or new key to a random value.
    """
    for _ in range(draw(st.integers(1, 3))):
        path, keys = draw(st.sampled_from(tables))
        key = draw(st.sampled_from(keys) | KEYS) if keys else draw(KEYS)
        node = document
        for part in path:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        if draw(st.booleans()) and key in node:
            del node[key]
        else:
            node[key] = draw(VALUES)
    return document


def table_paths(document: dict) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Every table of a document as (path, its keys), the root included."""
    found = []

    def walk(node: dict, path: tuple[str, ...]) -> None:
        found.append((path, tuple(node)))
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, (*path, key))

    walk(document, ())
    return found


def assert_one_line_naming(err: ScenarioError, path: Path, top_level_keys) -> None:
    """The error is one line that starts with the file and names a key of the file (or the whole file)."""
    message = str(err)
    assert len(message.splitlines()) == 1, message
    assert message.startswith(f"{path}: "), message
    assert err.key == "" or any(err.key == key or err.key.startswith(f"{key}.") for key in top_level_keys), message


@functools.cache
def _baseline_tables() -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    return table_paths(load_scenario("siloed_baseline").model_dump(mode="json"))


@st.composite
def scenario_children(draw) -> dict:
    """A valid minimal child of ``siloed_baseline`` with one to three random mutations."""
    child = {"name": "child", "description": "fuzzed", "extends": "siloed_baseline", "levers": {"pooling": 0.5}}
    return mutate(draw, child, _baseline_tables())
