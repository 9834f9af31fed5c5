"""Export of what is on screen: both sides' charts as one PNG image, and the data as CSV.

The PNG is drawn in the browser from the charts on the page (they are SVG, so nothing is
redrawn or re-computed and the image is what the room sees); the CSV is built on the
server from both runs under the sides' lock (:func:`pfpp_sim.app.export.export_csv`), and
only when asked for. Both name the place, seed, preset and month in their file names.
Neither is offered during Play, when the month on screen moves under the download.
"""

from __future__ import annotations

import solara

from pfpp_sim.app.export import export_csv, export_name
from pfpp_sim.app.frame import Frame
from pfpp_sim.app.sides import Sides

__all__ = ["ChartsPng", "Downloads"]


@solara.component_vue("charts_png.vue")
def ChartsPng(filename: str, heading: str, disabled: bool = False):
    """A button that saves every chart and money-flow diagram of both sides, as on screen, as one PNG image.

    ``heading`` is written above them (place, seed and month); ``filename`` names the file.
    """


@solara.component
def Downloads(sides: Sides, frame: Frame, *, heading: str, playing: bool):
    """The two export buttons: charts (PNG) and data (CSV) for the month on screen."""
    settings, month = frame.settings, frame.month

    def data() -> str:
        with sides.reading() as now:
            return export_csv(now)

    csv = solara.use_memo(lambda: data, dependencies=[frame.version])  # one callable per state, so a download is not reset
    with solara.Row(gap="0px", classes=["pfpp-downloads"], style="align-items: center"):
        ChartsPng(filename=export_name(settings, month, "charts.png"), heading=heading, disabled=playing)
        described = {"title": "Both sides' figures up to this month, the differences and the causes of the money, as CSV"}
        if playing:
            solara.Button("Data (CSV)", icon_name="mdi-file-delimited-outline", text=True, disabled=True, classes=["pfpp-export-csv"], attributes=described)
        else:
            with solara.FileDownload(csv, filename=export_name(settings, month, "data.csv"), mime_type="text/csv"):
                solara.Button("Data (CSV)", icon_name="mdi-file-delimited-outline", text=True, classes=["pfpp-export-csv"], attributes=described)
