"""Listing: who each intervention can reach, its intended then its other reachable residents in each place.

Each group of residents that interventions reach is defined here, one resident at a time
(:data:`GROUPS`): whether they are reachable, and whether they are intended (only the
reachable are). :func:`count_groups` counts each group's intended and other reachable
residents in each place of a block of places, and :func:`list_groups` lists them, in row
order, where the counts put them (:func:`~pfpp_sim.targeting.target_groups`). Both work
the groups out as they go, with no mask of every resident held in memory, and list
without branching on a resident's group, which no branch predictor could guess.

The functions are compiled loops (numba), each group's loops compiled for it. They
release the GIL, so blocks listed in threads run at once. They are compiled on first use
and cached beside this file, and with ``NUMBA_DISABLE_JIT=1`` run as plain Python.
"""

from __future__ import annotations

import numba
import numpy as np

from pfpp_sim.population import AGE_18, BAND_D, EDUCATION, ILO_UNEMPLOYED, NEET

__all__ = ["GROUPS", "count_groups", "list_groups"]

GROUPS = ("households", "retrofit", "careers_guidance", "employment_support", "mh_hub", "asb_outreach")
"""Every group, by its number: the first two are of households, the others of young people."""

_HOUSEHOLDS, _RETROFIT, _CAREERS_GUIDANCE, _EMPLOYMENT_SUPPORT, _MH_HUB = range(5)  # then asb_outreach
_CAREERS_AGE_MONTHS = 20 * 12  # careers guidance reaches young people under 20

# Each group's members: whether resident ``j`` of the columns given (a place's households
# or young people) is reachable, and whether intended (assumption:intended_groups).


def _households_group(households, j):
    """Income advice and bill support: every household reachable, the fuel poor intended."""
    _, fuel_poor = households
    return True, fuel_poor[j]


def _retrofit_group(households, j):
    """Retrofit: homes in band D or worse reachable, the fuel-poor ones intended."""
    band, fuel_poor = households
    reachable = band[j] >= BAND_D
    return reachable, reachable & fuel_poor[j]


def _careers_guidance_group(young, j):
    """Careers guidance: young people under 20 and not NEET reachable, those with a mental disorder or a cold home intended."""
    status, age_months, mh_disorder, _, cold = young
    reachable = (status[j] != NEET) & (age_months[j] < _CAREERS_AGE_MONTHS)
    return reachable, reachable & (mh_disorder[j] | cold[j])


def _employment_support_group(young, j):
    """Employment support: young people out of education or aged 18 or more reachable, the NEET seeking work (ILO unemployed) intended."""
    status, age_months, _, ilo_status, _ = young
    return (status[j] != EDUCATION) | (age_months[j] >= AGE_18), (status[j] == NEET) & (ilo_status[j] == ILO_UNEMPLOYED)


def _mh_hub_group(young, j):
    """Mental health hub: every young person reachable, those with a mental disorder intended."""
    _, _, mh_disorder, _, _ = young
    return True, mh_disorder[j]


def _asb_outreach_group(young, j):
    """Outreach: every young person reachable, the NEET and those in a cold home intended."""
    status, _, _, _, cold = young
    return True, (status[j] == NEET) | cold[j]


def count_groups(groups, places, household_bounds, young_bounds, households, young, counts):
    """Count each group's intended and other reachable residents in each place of a block.

    Parameters
    ----------
    groups : ndarray of int64, shape (G,)
        Numbers of the groups to count (:data:`GROUPS`).
    places : tuple of int
        The block's places, from ``places[0]`` to before ``places[1]``.
    household_bounds, young_bounds : ndarray of int64, shape (n_places + 1,)
        First row of each place's households and young people, then the number of each.
    households : tuple of ndarray
        The households' ``band`` (uint8) and ``fuel_poor`` (bool).
    young : tuple of ndarray
        The young people's ``status`` (uint8), ``age_months`` (int16), ``mh_disorder``
        (bool) and ``ilo_status`` (uint8), and whether their home is fuel poor (bool).
    counts : ndarray of int64, shape (G, 2, n_places)
        Written for the block's places: each group's intended (``[:, 0]``) and other
        reachable (``[:, 1]``) residents in each place.
    """
    for g in range(groups.size):
        for p in range(places[0], places[1]):
            place_households = _household_rows(households, household_bounds[p], household_bounds[p + 1])
            place_young = _young_rows(young, young_bounds[p], young_bounds[p + 1])
            counts[g, 0, p], counts[g, 1, p] = _count_place(groups[g], place_households, place_young)


def list_groups(groups, places, household_bounds, young_bounds, households, young, starts, counts, candidates):
    """List each group's intended and other reachable residents in each place of a block, in row order.

    Parameters
    ----------
    groups, places, household_bounds, young_bounds, households, young
        As in :func:`count_groups`.
    starts, counts : ndarray of int64, shape (G, 2, n_places)
        Where each group's intended and other residents in each place start in
        ``candidates``, and how many there are (:func:`count_groups`); a group's
        other residents come after all its intended ones.
    candidates : ndarray of int32 or int64
        Written: each listed resident's row.
    """
    for g in range(groups.size):
        for p in range(places[0], places[1]):
            place_households = _household_rows(households, household_bounds[p], household_bounds[p + 1])
            place_young = _young_rows(young, young_bounds[p], young_bounds[p + 1])
            first = household_bounds[p] if groups[g] <= _RETROFIT else young_bounds[p]
            at = (starts[g, 0, p], starts[g, 1, p], starts[g, 1, p] + counts[g, 1, p])
            _list_place(groups[g], place_households, place_young, first, at, candidates)


def _household_rows(households, start, stop):
    """Rows ``start`` to ``stop`` of each household column (views)."""
    band, fuel_poor = households
    return band[start:stop], fuel_poor[start:stop]


def _young_rows(young, start, stop):
    """Rows ``start`` to ``stop`` of each young people's column (views)."""
    status, age_months, mh_disorder, ilo_status, cold = young
    return status[start:stop], age_months[start:stop], mh_disorder[start:stop], ilo_status[start:stop], cold[start:stop]


def _count_place(group, households, young):
    """Group ``group``'s intended and other reachable residents of a place, given its households and young people."""
    if group == _HOUSEHOLDS:
        return _count(_households_group, households)
    if group == _RETROFIT:
        return _count(_retrofit_group, households)
    if group == _CAREERS_GUIDANCE:
        return _count(_careers_guidance_group, young)
    if group == _EMPLOYMENT_SUPPORT:
        return _count(_employment_support_group, young)
    if group == _MH_HUB:
        return _count(_mh_hub_group, young)
    return _count(_asb_outreach_group, young)


def _list_place(group, households, young, first, at, candidates):
    """List group ``group``'s intended and other reachable residents of a place, given its households and young people (see :func:`_list`)."""
    if group == _HOUSEHOLDS:
        _list(_households_group, households, first, at, candidates)
    elif group == _RETROFIT:
        _list(_retrofit_group, households, first, at, candidates)
    elif group == _CAREERS_GUIDANCE:
        _list(_careers_guidance_group, young, first, at, candidates)
    elif group == _EMPLOYMENT_SUPPORT:
        _list(_employment_support_group, young, first, at, candidates)
    elif group == _MH_HUB:
        _list(_mh_hub_group, young, first, at, candidates)
    else:
        _list(_asb_outreach_group, young, first, at, candidates)


def _count(group, columns):
    """The intended and other reachable residents, by ``group`` (one of the ``_*_group`` functions), among the rows of ``columns``."""
    intended = others = 0
    for j in range(columns[0].size):
        reachable, is_intended = group(columns, j)
        intended += is_intended
        others += reachable & (not is_intended)
    return intended, others


def _list(group, columns, first, at, candidates):
    """List the intended and other reachable residents, by ``group``, among the rows of ``columns``, the first being row ``first``.

    ``at`` holds where the intended residents go, where the others go and where these
    end. Each resident is written where the next resident of its part goes (an unreachable
    one where the next other one goes, to be written over by it), and only that part's
    position moves on: no branch on the resident's group, which no branch predictor could
    guess. Writes stop at the end of the others, which unreachable residents after the
    last of them would overrun.
    """
    # Unsigned positions, so that indexing checks for no negative index (a fifth faster).
    at_in, at_out, end = np.uintp(at[0]), np.uintp(at[1]), np.uintp(at[2])
    for j in range(columns[0].size):
        reachable, is_intended = group(columns, j)
        intended, other = np.uintp(is_intended), np.uintp(reachable & (not is_intended))
        to = at_out - (at_out - at_in) * intended  # the others come after the intended: no wrap-around
        if to < end:
            candidates[to] = first + j
        at_in += intended
        at_out += other


# Compiled here, not by decorators, so that mutation testing (which leaves decorated functions
# alone) mutates them too; with NUMBA_DISABLE_JIT=1 they run as plain Python.
_compile = numba.njit(cache=True, nogil=True)
_households_group = _compile(_households_group)
_retrofit_group = _compile(_retrofit_group)
_careers_guidance_group = _compile(_careers_guidance_group)
_employment_support_group = _compile(_employment_support_group)
_mh_hub_group = _compile(_mh_hub_group)
_asb_outreach_group = _compile(_asb_outreach_group)
count_groups = _compile(count_groups)
list_groups = _compile(list_groups)
_household_rows = _compile(_household_rows)
_young_rows = _compile(_young_rows)
_count_place = _compile(_count_place)
_list_place = _compile(_list_place)
_count = _compile(_count)
_list = _compile(_list)
