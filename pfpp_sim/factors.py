"""What differs between two scenarios, grouped into factors an analyst recognises, and their combinations.

Explaining the difference between two scenarios (:mod:`pfpp_sim.attribution`) needs the
things that differ, the *factors*, and for any set of them a *combination*: the base
scenario with the alternative's values of just those factors. The two scenarios are
compared key by key, as validated (after ``extends`` and calibration), and the keys that
differ are grouped:

- each lever: ``levers.pooling``;
- each programme, all its differing keys together, also a programme that only one of
  the scenarios has: ``programmes.home_upgrade``;
- each sourced quantity, with its value, range and source: ``mechanisms.bid_cost``,
  ``interventions.retrofit.unit_cost``, ``world.households.band_cost.C``;
- any other key on its own: ``interventions.retrofit.domain``.

``groups`` (``pfpp explain --factors``) groups further by key prefix: with ``world``, every
world quantity that differs is one factor. A named group under which nothing differs is a
factor too, identical in both scenarios. The scenarios' names, descriptions, ``extends``
and the analyst's own sources (``[user_sources]``: what values cite, not values) are not
compared; a combination carries the base's sources, the alternative's, or for a mix both.
Their run settings (places, horizon, start, scale) and calibration must be the same.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from pfpp_sim.errors import PfppError, ScenarioError
from pfpp_sim.evidence import Sourced
from pfpp_sim.scenario import Scenario
from pfpp_sim.shapley import MAX_FACTORS

__all__ = ["ABSENT", "Factor", "FactorSet", "factor_set"]

Path = tuple[str, ...]
_SAME = -1
_UNCOMPARED = ("name", "description", "extends", "user_sources")
_FIXED = {
    "run": "the same run settings in both (attribution compares scenarios over the same places, horizon, start and scale: "
    "set them with --places, --horizon and --scale, or in the files)",
    "calibration": "the same calibration in both (a fitted calibration is data, not a factor to attribute to)",
}
_FACTOR_ROOTS = ("levers", "world", "mechanisms", "interventions", "programmes")
_SOURCED_KEYS = frozenset(Sourced.model_fields)


class _Absent:
    """The value of a key that a scenario does not have (a programme only the other one runs)."""

    def __repr__(self) -> str:
        return "absent"

    def __reduce__(self) -> str:
        # Unpickled in a worker process as the module's one ABSENT: combinations test it by identity.
        return "ABSENT"


ABSENT = _Absent()
"""Stands for a key missing from one of the scenarios in :attr:`Factor.changes`."""


@dataclass(frozen=True)
class Factor:
    """One factor: a name and the keys it changes.

    Attributes
    ----------
    name : str
        Dotted key path, e.g. ``"levers.pooling"`` or ``"programmes.home_upgrade"``.
    changes : tuple of (str, object, object)
        Each differing key path with its base and alternative values (:data:`ABSENT`
        where a scenario lacks it); empty for a named group identical in both.
    """

    name: str
    changes: tuple[tuple[str, Any, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready description: ``{"name": ..., "changes": {path: {"base": ..., "alternative": ...}}}``."""
        shown = lambda value: "(absent)" if value is ABSENT else value
        return {"name": self.name, "changes": {p: {"base": shown(b), "alternative": shown(a)} for p, b, a in self.changes}}


@dataclass(frozen=True)
class FactorSet:
    """The factors that differ between two scenarios, and a way to build any combination of them.

    Made by :func:`factor_set`. Combination ``mask`` switches factor ``i`` to the
    alternative's values when bit ``i`` is set: 0 is the base, ``2**k - 1`` the alternative.

    Attributes
    ----------
    base, alternative : Scenario
    factors : tuple of Factor
    leaves : tuple of (path, base value, alternative value, factor index)
        Every key of either scenario, in an order consistent with both; the factor index
        is -1 for a key that is the same in both.
    """

    base: Scenario
    alternative: Scenario
    factors: tuple[Factor, ...]
    leaves: tuple[tuple[Path, Any, Any, int], ...]

    @property
    def names(self) -> list[str]:
        """Factor names, in bit order."""
        return [f.name for f in self.factors]

    def label(self, mask: int) -> str:
        """The factors of a combination, e.g. ``"levers.pooling + levers.carry_over"`` (``"none"`` for the base)."""
        chosen = [f.name for i, f in enumerate(self.factors) if mask >> i & 1]
        return " + ".join(chosen) or "none"

    def combination(self, mask: int) -> Scenario:
        """The base scenario with the alternative's values of the factors in ``mask``.

        Raises
        ------
        ScenarioError
            If the combination is not a valid scenario (e.g. a group splits a programme
            that only one scenario has): names the factors, the key and why.
        """
        data: dict[str, Any] = {}
        for path, base_value, alternative_value, factor in self.leaves:
            value = alternative_value if factor != _SAME and mask >> factor & 1 else base_value
            if value is ABSENT:
                continue
            node = data
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = value
        full = (1 << len(self.factors)) - 1
        name = self.base.name if mask == 0 else self.alternative.name if mask == full else f"{self.base.name}_combination_{mask}"
        data.update(name=name, description=f"{self.base.name} with {self.alternative.name}'s {self.label(mask)}", extends=self.base.extends)
        ours, theirs = self.base.user_sources, self.alternative.user_sources
        cited = ours if mask == 0 else theirs if mask == full else {**ours, **theirs}
        data["user_sources"] = {key: source.model_dump() for key, source in cited.items()}
        try:
            return Scenario.model_validate(data)
        except ValidationError as err:
            bad = err.errors()[0]
            source = f"<{self.base.name} with {self.alternative.name}'s {self.label(mask)}>"
            expected = "a value (required key is missing)" if bad["type"] == "missing" else bad["msg"]
            raise ScenarioError(source, ".".join(map(str, bad["loc"])), bad.get("input"), expected) from err


def _leaves(node: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaves(value, (*path, str(key)))
    else:
        yield path, node


def _node(data: Any, path: Path) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return ABSENT
        data = data[part]
    return data


def _merged_order(first: list[Path], second: list[Path]) -> list[Path]:
    """Keys of both lists: ``second``'s in its order, each key only in ``first`` placed right after the key before it there (first if none is)."""
    merged, shared = list(second), set(second)
    for i, key in enumerate(first):
        if key not in shared:  # every key before it in ``first`` is in ``merged`` by now
            merged.insert(merged.index(first[i - 1]) + 1 if i else 0, key)
    return merged


def _order_conflict(base: Any, alternative: Any, path: Path = ()) -> Path | None:
    """The first table whose shared keys come in another order in the two scenarios, if any."""
    if not (isinstance(base, dict) and isinstance(alternative, dict)):
        return None
    shared = [k for k in base if k in alternative]
    if shared != [k for k in alternative if k in base]:
        return path
    return next((p for k in shared if (p := _order_conflict(base[k], alternative[k], (*path, k))) is not None), None)


def _default_factor(path: Path, base: dict, alternative: dict) -> Path:
    if path[0] in ("levers", "programmes"):
        return path[:2]
    for end in range(1, len(path) + 1):
        if any(isinstance(n := _node(d, path[:end]), dict) and set(n) == _SOURCED_KEYS for d in (base, alternative)):
            return path[:end]
    return path


def _first_difference(key: str, base: Any, alternative: Any) -> tuple[str, Any, Any]:
    """The first key under ``key`` that differs, with both values; a calibration is named by its fit."""
    if key == "calibration":
        fit = lambda data: f"{data['name']} (fitted {data['fitted_on']})" if data else "none"
        return "calibration", fit(base), fit(alternative)
    b_leaves, a_leaves = dict(_leaves(base, (key,))), dict(_leaves(alternative, (key,)))
    path = next(p for p in _merged_order(list(b_leaves), list(a_leaves)) if b_leaves.get(p, ABSENT) != a_leaves.get(p, ABSENT))
    return ".".join(path), b_leaves.get(path, ABSENT), a_leaves.get(path, ABSENT)


def _check_groups(groups: Sequence[str], base: dict, alternative: dict, source: str) -> list[Path]:
    paths = []
    for group in groups:
        path = tuple(group.split("."))
        if path[0] not in _FACTOR_ROOTS or all(_node(d, path) is ABSENT for d in (base, alternative)):
            raise ScenarioError(source, "--factors", group, f"a key path of the scenarios under {', '.join(_FACTOR_ROOTS)}")
        paths.append(path)
    return paths


def factor_set(base: Scenario, alternative: Scenario, *, groups: Sequence[str] = (), limit: int | None = MAX_FACTORS) -> FactorSet:
    """Find the factors that differ between two scenarios.

    Parameters
    ----------
    base, alternative : Scenario
    groups : sequence of str, default=()
        Key prefixes that each make one factor of everything under them that differs
        (the longest prefix wins), e.g. ``["world", "mechanisms"]``.
    limit : int or None, default=MAX_FACTORS
        Most factors allowed; None for no limit (to list what differs, not to attribute).

    Returns
    -------
    FactorSet
        Factors in the order their keys appear in the scenarios; named groups under which
        nothing differs come last.

    Raises
    ------
    ScenarioError
        If the run settings or calibrations differ, a group is not a key path, or shared
        programmes (or other tables) come in another order: one line naming the key.
    PfppError
        If nothing differs, or more than ``limit`` factors do.
    """
    source = f"<explain {alternative.name} vs {base.name}>"
    b_dump = {k: v for k, v in base.model_dump().items() if k not in _UNCOMPARED}
    a_dump = {k: v for k, v in alternative.model_dump().items() if k not in _UNCOMPARED}
    for key, expected in _FIXED.items():
        if b_dump[key] != a_dump[key]:
            path, b_value, a_value = _first_difference(key, b_dump[key], a_dump[key])
            raise ScenarioError(source, path, a_value, f"{expected}; {base.name} has {path} = {b_value!r}")
    conflict = _order_conflict(b_dump, a_dump)
    if conflict is not None:
        raise ScenarioError(
            source, ".".join(conflict), list(_node(a_dump, conflict)),
            f"the keys shared with {base.name} in its order ({', '.join(_node(b_dump, conflict))}): order can change results and is not a factor",
        )
    group_paths = _check_groups(groups, b_dump, a_dump, source)
    b_leaves, a_leaves = dict(_leaves(b_dump)), dict(_leaves(a_dump))
    names: dict[Path, list[tuple[str, Any, Any]]] = {}
    leaves = []
    for path in _merged_order(list(b_leaves), list(a_leaves)):
        b_value, a_value = b_leaves.get(path, ABSENT), a_leaves.get(path, ABSENT)
        if b_value is not ABSENT and a_value is not ABSENT and b_value == a_value:
            leaves.append((path, b_value, a_value, _SAME))
            continue
        within = [g for g in group_paths if path[: len(g)] == g]
        factor = max(within, key=len) if within else _default_factor(path, b_dump, a_dump)
        names.setdefault(factor, []).append((".".join(path), b_value, a_value))
        leaves.append((path, b_value, a_value, list(names).index(factor)))
    if not names:
        raise PfppError(
            f"nothing to explain: {alternative.name} and {base.name} have the same levers, world, mechanisms, interventions "
            f"and programmes (scenario hash {base.scenario_hash()})"
        )
    for group in group_paths:
        names.setdefault(group, [])
    if limit is not None and len(names) > limit:
        raise PfppError(
            f"{len(names)} factors differ between {alternative.name} and {base.name}, more than {limit}: "
            "group them by key prefix with --factors (e.g. --factors world,mechanisms)"
        )
    factors = tuple(Factor(".".join(path), tuple(changes)) for path, changes in names.items())
    return FactorSet(base, alternative, factors, tuple(leaves))
