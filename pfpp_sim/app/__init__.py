"""The teaching app (``pfpp app``): siloed and joined-up funding of one place, side by side.

A Solara web app for trainers: the room picks a place, a preset and levers, then steps
or plays both runs month by month and watches outcomes, money and events diverge.

- :mod:`~pfpp_sim.app.session`: what the room chose and the two runs it drives
- :mod:`~pfpp_sim.app.sides`: the two runs, stepped and changed together under one lock
- :mod:`~pfpp_sim.app.frame`: what both columns show at one moment, as markup
- :mod:`~pfpp_sim.app.differences`: the strip of your settings minus the siloed side
- :mod:`~pfpp_sim.app.causes`: why the money differs, counted over the whole run
- :mod:`~pfpp_sim.app.narrative`: "what is happening" sentences from run events
- :mod:`~pfpp_sim.app.flows`: the funding-flow graph from award ledgers
- :mod:`~pfpp_sim.app.charts`: SVG line charts and the flow diagram
- :mod:`~pfpp_sim.app.address`: the state as a query string, and back;
  :mod:`~pfpp_sim.app.link` keeps the page's address in step with it
- :mod:`~pfpp_sim.app.export`: the data on screen as CSV; :mod:`~pfpp_sim.app.downloads`
  offers it and the charts as PNG
- :mod:`~pfpp_sim.app.guide`: the Info panel's sections of the trainers' guide, shown by
  :mod:`~pfpp_sim.app.info_view`
- :mod:`~pfpp_sim.app.playing`: Play's loop, its speeds and "pause each April"
- :mod:`~pfpp_sim.app.page`: the Solara page (imports Solara), built from
  :mod:`~pfpp_sim.app.header` (drawer toggle, presentation mode),
  :mod:`~pfpp_sim.app.toolbar`, :mod:`~pfpp_sim.app.controls` (the drawer),
  :mod:`~pfpp_sim.app.column` (one side) and :mod:`~pfpp_sim.app.why_view`, styled
  by :mod:`~pfpp_sim.app.style`
- :mod:`~pfpp_sim.app.server`: :func:`serve`

Importing this package does not import Solara, so ``serve`` can report a missing
install in one line.
"""

from pfpp_sim.app.server import serve

__all__ = ["serve"]
