"""The page's address kept in step with what it shows, so a reload or a shared link shows the same thing.

On opening, the page reads its address (:func:`pfpp_sim.app.address.read_address`) and
builds both sides at the settings and month it names; a link it cannot use is refused
with a line on the page, and the defaults are shown instead. Whenever the room steps,
changes a setting, pauses or resets, the address is rewritten
(:func:`pfpp_sim.app.address.address`) through Solara's router; not during Play, which
would add a browser history entry a month. Going Back or Forward in the browser shows
the settings and month of that address.
"""

from __future__ import annotations

from collections.abc import Callable

import solara

from pfpp_sim.app.address import read_address
from pfpp_sim.app.session import Settings
from pfpp_sim.app.sides import Sides
from pfpp_sim.errors import PfppError

__all__ = ["open_link", "use_address"]


def open_link(search: str | None) -> tuple[Sides, str]:
    """Both sides as a link asks for them, or at the defaults with why the link was refused.

    Parameters
    ----------
    search : str or None
        The address's query string (``solara.use_router().search``).

    Returns
    -------
    sides : Sides
        At the link's settings and month, or the default settings at month 0.
    refusal : str
        Empty, or one line for the page saying what in the link could not be used.
    """
    try:
        settings, month = read_address(search or "")
    except PfppError as err:
        return Sides.start(Settings()), f"This link's settings could not be used, so the app shows its defaults: {err}."
    sides = Sides.start(settings)
    sides.run_to(month)
    return sides, ""


def _same(search: str, query: str) -> bool:
    """True when an address asks for what ``query`` shows, whether or not it is written the same way (``?month=3``)."""
    if search == query:
        return True
    try:
        return read_address(search) == read_address(query)
    except PfppError:
        return False


def use_address(sides: Sides, query: str, *, playing: bool, shown: Callable[[], None], refused: Callable[[str], None]) -> None:
    """Keep the browser's address at ``query`` (what the page shows) and follow Back and Forward.

    Parameters
    ----------
    sides : Sides
    query : str
        :func:`~pfpp_sim.app.address.address` of the settings and month on screen.
    playing : bool
        The address is left alone during Play and written when it stops.
    shown : callable
        Called after the sides were moved to an address the browser went to, to redraw.
    refused : callable taking str
        Called with one line when the browser goes to an address that cannot be used.

    Outside a Solara server (a notebook, a test rendering the page alone) there is no
    address to keep, and this does nothing. The address the page opened at is left as it
    is until the room first does something: the browser reports it once more as the page
    loads, and rewriting it before then would read that report as the room going back to
    it.
    """
    router = solara.use_router()
    seen = solara.use_ref(router.search or "")
    opening = solara.use_ref(True)

    def keep() -> None:
        if router.set_path is None or playing:
            return
        if opening.current:  # the address the page opened at stays until the room does something
            opening.current = False
            return
        search = router.search or ""
        moved, seen.current = search != seen.current, search
        if moved and search and search != query:  # Back, Forward, or a link opened in this tab
            try:
                settings, month = read_address(search)
            except PfppError as err:
                refused(f"This address's settings could not be used, so the app stays as it was: {err}.")
            else:
                sides.change(settings)
                sides.run_to(month)
                shown()
                return
        if not _same(search, query):
            router.push(f"{router.path or '/'}?{query}")

    solara.use_effect(keep, [router.search, query, playing])
