"""The compiled walks (``walks.choose``) choose what the walks written out as plain Python choose, to the bit.

The reference below follows the module's description request by request and walk by walk:
three walks a request (``intended``, ``intended_rest``, ``others``), each a first look at
about ``2 * want + 8`` residents of its group (all of a smaller group, ordered by a draw
each), then, if it kept too few, a walk on through the residents not yet looked at, in a
random order; the numbers drawn stage by stage over a batch's walks. Every check compares
all a caller sees: the recipients and their requests, the counts, the records written, the
complement's recipients listed in ``candidates`` and the state of the random stream after.
The inputs are small, so the module's mutants, run as plain Python, are tested quickly.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfpp_sim import walks

INTERVENTIONS = 3
"""Columns of the records; the complement of intervention ``k`` is ``k + 1`` (mod 3)."""


def requests(seed: int, *, places: int, residents: int, n_max: int, had_share: float, sees: float, batches: int) -> dict:
    """A month's requests for ``choose`` (its arguments but the stream), in ``places`` places of ``residents`` each.

    Each (intervention, place) has random intended and other reachable residents, listed in
    ``candidates`` group after group with room for the complement's recipients after them;
    about ``had_share`` of the records are set, by random streams. The requests come in
    ``batches`` batches of distinct (intervention, place) pairs; a pair may come again in a
    later batch.
    """
    rng = np.random.default_rng(seed)
    total = places * residents
    had = rng.random(INTERVENTIONS * total) < had_share
    streams = np.where(had, rng.choice(np.array([1, 2, 4, 6], dtype=np.uint16), had.size), 0).astype(np.uint16)
    listed, start, size = [], {}, {}
    for k in range(INTERVENTIONS):
        for place in range(places):
            residents_here = np.arange(place * residents, (place + 1) * residents)
            reachable = residents_here[rng.random(residents) < 0.9]
            intended = rng.random(reachable.size) < rng.uniform(0.1, 0.9)
            for part, members in (("in", reachable[intended]), ("out", reachable[~intended])):
                start[k, place, part], size[k, place, part] = sum(map(len, listed)), members.size
                listed.append(members)
    pairs = [(k, place) for k in range(INTERVENTIONS) for place in range(places)]
    chosen, batch_first = [], []
    for _ in range(batches):
        batch_first.append(len(chosen))
        chosen += [pairs[i] for i in rng.permutation(len(pairs))[: rng.integers(1, len(pairs) + 1)]]
    spare = sum(map(len, listed))
    room = sum(size[k, place, "in"] for k, place in chosen)
    dtype = np.int32 if seed % 2 else np.int64  # target groups list residents in either
    count = len(chosen)
    return {
        "candidates": np.concatenate([*listed, np.full(room, -1)]).astype(dtype),
        "spare": spare,
        "in_start": np.array([start[k, p, "in"] for k, p in chosen], dtype=np.int64),
        "in_size": np.array([size[k, p, "in"] for k, p in chosen], dtype=np.int64),
        "out_start": np.array([start[k, p, "out"] for k, p in chosen], dtype=np.int64),
        "out_size": np.array([size[k, p, "out"] for k, p in chosen], dtype=np.int64),
        "n": rng.integers(0, n_max + 1, count).astype(np.int64),
        "precision": rng.uniform(-0.2, 1.2, count),
        "bundle_first": rng.random(count) < 0.5,
        "offset": np.array([k * total for k, _ in chosen], dtype=np.int64),
        "complement_offset": np.array([(k + 1) % INTERVENTIONS * total for k, _ in chosen], dtype=np.int64),
        "known_bits": rng.choice(np.array([1, 2, 3, 7], dtype=np.uint16), count),
        "stream_bit": rng.choice(np.array([1, 2, 4], dtype=np.uint16), count),
        "sees_others": sees,
        "had": had,
        "streams": streams,
        "batch_first": np.array(batch_first, dtype=np.int64),
    }


def reference_choose(a: dict, rng: np.random.Generator):
    """``walks.choose`` as plain Python: batch after batch, each batch's walks stage by stage."""
    count = a["n"].size
    recipients, request = [], []
    served, duplicated, intended = [0] * count, [0] * count, [0] * count
    bounds = [*a["batch_first"].tolist(), count]
    for first, end in zip(bounds[:-1], bounds[1:]):
        fresh, counts = reference_batch(a, list(range(first, end)), rng)
        recipients += [i for i, _ in fresh]
        request += [r for _, r in fresh]
        for r, (took, dup, took_in) in zip(range(first, end), counts):
            served[r], duplicated[r], intended[r] = took, dup, took_in
    return recipients, request, served, duplicated, intended


def reference_batch(a: dict, batch: list[int], rng: np.random.Generator) -> tuple[list, list]:
    """One batch: (resident, request) of each first served, and [served, duplicated, intended] of each request; records written."""
    n = [int(a["n"][r]) for r in batch]
    n_in = []
    for r in batch:  # binomial(n, precision), one Bernoulli draw at a time
        n_in.append(sum(1 for _ in range(a["n"][r]) if rng.random() < a["precision"][r]))
    all_walks = reference_walks(a, batch)
    sampled, met, kept = reference_first_looks(a, all_walks, n * 3, rng)
    # Walking on: as many as the fill-in between the groups may need.
    size, found = len(batch), [len(k) for k in kept]
    in_need = [min(n[q], max(n_in[q], n[q] - found[2 * size + q])) for q in range(size)]
    want = (in_need + [in_need[q] - found[q] for q in range(size)]
            + [n[q] - min(n_in[q], found[q] + found[size + q]) for q in range(size)])
    reference_walk_on(a, all_walks, want, sampled, met, kept, rng)
    return reference_take(a, all_walks, n, n_in, kept)


def reference_walks(a: dict, batch: list[int]) -> list[tuple]:
    """Walk ``w`` of the batch: (request, its group's positions in ``candidates``, skips the complement's recipients).

    Every request's ``intended`` walk, then every ``intended_rest`` walk, then every
    ``others`` walk. A pooled request's complement recipients are listed from ``spare`` on.
    """
    candidates, had = a["candidates"], a["had"]
    intended_walks, rest_walks, other_walks = [], [], []
    listed = a["spare"]
    for r in batch:
        group = list(range(a["in_start"][r], a["in_start"][r] + a["in_size"][r]))
        if a["bundle_first"][r]:
            partners = [p for p in group if had[candidates[p] + a["complement_offset"][r]]]
            candidates[listed : listed + len(partners)] = candidates[partners]
            intended_walks.append((r, list(range(listed, listed + len(partners))), False))
            rest_walks.append((r, group, True))
            listed += len(partners)
        else:
            intended_walks.append((r, group, False))
            rest_walks.append((r, [], False))
        other_walks.append((r, list(range(a["out_start"][r], a["out_start"][r] + a["out_size"][r])), False))
    return intended_walks + rest_walks + other_walks


def reference_look(a: dict, all_walks: list[tuple], met: list[tuple], rng: np.random.Generator) -> list[list]:
    """[flat position, open, had] of each (walk, position) met; then one shared-data draw each, in turn."""
    seen = []
    for w, p in met:
        r, _, skips = all_walks[w]
        i = a["candidates"][p] + a["offset"][r]
        known = (a["streams"][i] & a["known_bits"][r]) != 0
        partner = skips and a["had"][a["candidates"][p] + a["complement_offset"][r]]
        seen.append([i, not known and not partner, bool(a["had"][i])])
    if a["sees_others"] > 0:
        for resident in seen:
            if rng.random() < a["sees_others"] and resident[2]:
                resident[1] = False
    return seen


def lowest(w: int, rows: list[tuple], count: int) -> list[tuple]:
    """(flat position, had) of the ``count`` (key, row, flat position, had) rows of lowest ``w + key``, ties by row."""
    ordered = sorted((w + key, row, i, was) for key, row, i, was in rows)
    return [(i, was) for _, _, i, was in ordered[:count]]


def reference_first_looks(a: dict, all_walks: list[tuple], want: list[int], rng: np.random.Generator):
    """Each walk's first look: sampled with replacement from a larger group, a smaller one looked at whole.

    Returns whether each walk was sampled, the (walk, position, number drawn) of each look
    and the (flat position, had) of the residents each walk kept.
    """
    sampled, met = [], []
    for w, (_, group, _) in enumerate(all_walks):
        looks = min(len(group), 2 * want[w] + 8) if want[w] > 0 else 0
        sampled.append(looks < len(group))
        for j in range(looks):
            u = rng.random()
            met.append((w, group[int(u * len(group))] if sampled[w] else group[j], u))
    seen = reference_look(a, all_walks, [(w, p) for w, p, _ in met], rng)
    kept = []
    for w in range(len(all_walks)):
        mine = [(p, u, resident) for (v, p, u), resident in zip(met, seen) if v == w]
        if sampled[w]:  # in the order drawn, each resident once
            kept.append([])
            before = set()
            for p, _, (i, is_open, was) in mine:
                if is_open and p not in before and len(kept[w]) < want[w]:
                    kept[w].append((i, was))
                before.add(p)
        else:
            kept.append(lowest(w, [(u, j, i, was) for j, (_, u, (i, is_open, was)) in enumerate(mine) if is_open], want[w]))
    return sampled, met, kept


def reference_walk_on(a, all_walks, want, sampled, met, kept, rng) -> None:
    """Sampled walks that kept fewer than ``want`` go on through the residents they did not draw, in a random order."""
    rest = []
    for w, (_, group, _) in enumerate(all_walks):
        if sampled[w] and len(kept[w]) < want[w]:
            drawn = {p for v, p, _ in met if v == w}
            rest += [(w, p) for p in group if p not in drawn]
    seen = reference_look(a, all_walks, rest, rng)
    order = [rng.random() for _ in rest]
    for w in range(len(all_walks)):
        mine = [(u, j, i, was) for j, ((v, _), u, (i, is_open, was)) in enumerate(zip(rest, order, seen)) if v == w and is_open]
        kept[w] += lowest(w, mine, want[w] - len(kept[w]))


def reference_take(a: dict, all_walks: list[tuple], n: list[int], n_in: list[int], kept: list[list]) -> tuple[list, list]:
    """Take ``n_in`` intended residents (the complement's recipients first) and the rest from the others; each group
    fills what the other runs short of. Records them; returns as :func:`reference_batch` does."""
    size, found = len(n), [len(k) for k in kept]
    take, counts = [0] * len(all_walks), []
    for q in range(size):
        intended_found = min(found[q] + found[size + q], n[q])
        take_out = min(n[q] - min(n_in[q], intended_found), found[2 * size + q])
        take_in = min(intended_found, n[q] - take_out)
        take[q] = min(found[q], take_in)
        take[size + q], take[2 * size + q] = take_in - take[q], take_out
        counts.append([take_in + take_out, 0, take_in])
    fresh = []
    for w, (r, _, _) in enumerate(all_walks):  # walk after walk, not request after request
        for i, was in kept[w][: take[w]]:
            a["had"][i] = True
            a["streams"][i] |= a["stream_bit"][r]
            if was:
                counts[w % size][1] += 1
            else:
                fresh.append((i - a["offset"][r], r))
    return fresh, counts


def copies(a: dict) -> dict:
    return {key: value.copy() if isinstance(value, np.ndarray) else value for key, value in a.items()}
CASES = {
    "small groups, looked at whole": {"places": 2, "residents": 20, "n_max": 6, "had_share": 0.3, "sees": 0.5, "batches": 1},
    "large groups, sampled": {"places": 1, "residents": 90, "n_max": 4, "had_share": 0.2, "sees": 0.0, "batches": 1},
    "large groups mostly served, walked on": {"places": 2, "residents": 80, "n_max": 5, "had_share": 0.9, "sees": 0.4, "batches": 2},
    "requests wanting more than their groups": {"places": 2, "residents": 15, "n_max": 25, "had_share": 0.5, "sees": 1.0, "batches": 1},
    "batches seeing the ones before": {"places": 1, "residents": 60, "n_max": 12, "had_share": 0.5, "sees": 0.0, "batches": 3},
}


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("case", CASES)
def test_the_walks_choose_and_record_what_the_plain_walks_do(case, seed):
    a = requests(seed, **CASES[case])
    expected, rng_expected = copies(a), np.random.default_rng(seed)
    rng = np.random.default_rng(seed)
    got = walks.choose(**a, rng=rng)
    want = reference_choose(expected, rng_expected)
    for name, array, values in zip(("recipients", "request", "served", "duplicated", "intended"), got, want):
        assert array.dtype == np.int64, name
        assert array.tolist() == values, name
    for name in ("had", "streams", "candidates"):
        assert a[name].dtype == expected[name].dtype and a[name].tolist() == expected[name].tolist(), name
    assert rng.bit_generator.state == rng_expected.bit_generator.state, "the same numbers drawn"


def test_a_batch_of_no_requests_chooses_no_one_and_draws_nothing():
    a = requests(1, **CASES["small groups, looked at whole"])
    per_request = ("in_start", "in_size", "out_start", "out_size", "n", "precision", "bundle_first", "offset", "complement_offset", "known_bits", "stream_bit")
    a = {key: value[:0] if key in per_request else value for key, value in a.items()}
    a["batch_first"] = np.zeros(1, dtype=np.int64)
    before, rng = copies(a), np.random.default_rng(1)
    got = walks.choose(**a, rng=rng)
    assert [array.size for array in got] == [0] * 5
    for name in ("had", "streams", "candidates"):
        assert a[name].tolist() == before[name].tolist(), name
    assert rng.bit_generator.state == np.random.default_rng(1).bit_generator.state, "no number drawn"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=60), st.integers(0, 5), st.lists(st.integers(-1, 40), max_size=300))
def test_a_walks_repeated_draws_are_closed_and_its_first_draw_of_each_position_kept(positions, before, left):
    # Draws first:end of a walk; the draws before it (another walk's) are left alone, and
    # so is what an earlier walk left in the shared table.
    at = np.array([7] * before + positions, dtype=np.int64)
    is_open = np.ones(at.size, dtype=bool)
    table = np.full(walks._slots(len(positions)) + 3, 7, dtype=np.int64)
    table[: len(left)] = left[: table.size]
    walks._close_repeats(at, before, at.size, is_open, table)
    seen, expected = set(), [True] * before
    for position in positions:
        expected.append(position not in seen)
        seen.add(position)
    assert is_open.tolist() == expected


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 80), st.integers(-3, 90), st.integers(0, 7), st.integers(0, 2**32 - 1))
def test_the_lowest_orders_of_a_walks_rows_are_found_exactly_with_or_without_the_threshold(n, count, w, seed):
    rng = np.random.default_rng(seed)
    order = rng.random(n)
    order[rng.random(n) < 0.1] = 0.5  # some ties, kept in the order given
    rows = np.flatnonzero(rng.random(n) < 0.8)
    expected = sorted(rows.tolist(), key=lambda row: (w + order[row], row))[: max(count, 0)]
    assert walks._lowest(rows, order, w, count).tolist() == expected


@given(st.integers(0, 5000))
def test_a_walks_hash_table_is_a_power_of_two_of_at_least_16_slots_and_twice_its_draws(draws):
    slots = walks._slots(draws)
    assert slots >= max(16, 2 * draws) and slots & (slots - 1) == 0
    assert slots == 16 or slots // 2 < 2 * draws  # the least such


def test_a_number_drawn_exactly_at_the_precision_or_the_chance_of_seeing_others_is_not_below_it():
    # Each Bernoulli draw is `number < chance`, as in NumPy's walks these replace: a number drawn
    # exactly at the chance is a failure, one just below it a success.
    drawn = np.random.default_rng(3).random()
    for chance, success in ((drawn, False), (np.nextafter(drawn, 1.0), True)):
        intended = walks._intended_counts(np.array([1]), np.array([chance]), np.random.default_rng(3))
        assert intended.tolist() == [int(success)]
        # One resident another stream served, whom the team does not know it served.
        one = np.zeros(1, dtype=np.int64)
        look = (one, np.zeros(1, dtype=np.uint16), np.zeros(1, dtype=bool), one, chance, np.ones(1, dtype=bool), np.ones(1, dtype=np.uint16))
        _, is_open, was_had = walks._look(one, one, one, look, np.random.default_rng(3))
        assert was_had.tolist() == [True] and is_open.tolist() == [not success], "seen through shared data below the chance"
