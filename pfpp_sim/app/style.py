"""The teaching app's stylesheet: sizes for a projector, the two sides' colours, the drawer's captions."""

__all__ = ["CSS"]

CSS = """
.pfpp-main { font-size: 16px; padding-bottom: 48px; }
.pfpp-lever-label { font-size: 15px; font-weight: 500; margin-top: 6px; }
.pfpp-lever-value { color: #12436D; }
.pfpp-changed { font-size: 13px; font-weight: bold; color: #801650; background: #F7E8EF; padding: 0 4px; white-space: nowrap; }
.pfpp-sidebar .pfpp-lever-changed .v-slider-track__fill { background-color: #801650 !important; }
.pfpp-levers-changed { color: #801650; margin: 0 0 4px 0; }
.pfpp-play-options { font-size: 15px; }
.pfpp-toolbar-label { color: #3d3d3d; align-self: center; }
.pfpp-play-options .v-input--density-default { --v-input-control-height: 40px; }
.pfpp-sidebar .v-switch .v-input__details, .pfpp-sidebar .v-slider .v-input__details { display: none; }
.pfpp-link-refused { background: #F7E8EF; border-left: 5px solid #801650; padding: 2px 10px; font-size: 16px; color: #0b0c0c; }
.pfpp-toolbar { align-items: center; flex-wrap: wrap; }
.pfpp-month { font-size: 22px; font-weight: bold; color: #1a1a1a; margin-left: 12px; }
.pfpp-side h2 { font-size: 22px; margin: 4px 0 0 0; }
.pfpp-side-month { font-size: 16px; font-weight: bold; color: #3d3d3d; margin-bottom: 4px; }
.pfpp-monitors { display: grid; grid-template-columns: repeat(4, 1fr); gap: 6px; margin-bottom: 8px; }
.pfpp-monitor { background: #f3f2f1; padding: 6px 8px; border-left: 5px solid #505050; }
.pfpp-monitor .pfpp-label { font-size: 13px; color: #3d3d3d; }
.pfpp-monitor .pfpp-value { font-size: 21px; font-weight: bold; color: #0b0c0c; }
.pfpp-side-siloed .pfpp-monitor { border-left-color: #F46A25; }
.pfpp-side-yours .pfpp-monitor { border-left-color: #12436D; }
.pfpp-difference { background: #f3f2f1; border-left: 5px solid #12436D; padding: 4px 10px 6px 10px; }
.pfpp-difference-title { font-size: 15px; color: #3d3d3d; margin-bottom: 2px; }
.pfpp-difference-cells { display: grid; grid-template-columns: repeat(auto-fit, minmax(125px, 1fr)); gap: 4px 10px; }
.pfpp-difference .pfpp-label { font-size: 13px; color: #3d3d3d; }
.pfpp-difference .pfpp-value { font-size: 20px; font-weight: bold; color: #0b0c0c; white-space: nowrap; }
.pfpp-causes table { border-collapse: collapse; font-size: 15px; }
.pfpp-causes caption { text-align: left; font-size: 15px; color: #3d3d3d; padding-bottom: 2px; }
.pfpp-causes th, .pfpp-causes td { padding: 1px 10px 1px 0; text-align: left; vertical-align: baseline; }
.pfpp-causes td { font-weight: bold; white-space: nowrap; min-width: 9em; }
.pfpp-causes thead th.pfpp-cause-siloed { color: #F46A25; }
.pfpp-causes thead th.pfpp-cause-yours { color: #12436D; }
.pfpp-causes tr.pfpp-cause-route th { font-weight: normal; padding-left: 1.2em; }
.pfpp-cause-note { font-size: 12.5px; font-weight: normal; color: #505050; margin-left: 8px; }
.pfpp-charts { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 12px; }
.pfpp-legend { font-size: 14px; margin: 2px 0 4px 0; }
.pfpp-narrative { font-size: 15px; line-height: 1.35; background: #f8f8f8; padding: 6px 10px; height: 150px; overflow-y: auto; }
.pfpp-narrative ul { padding-left: 18px; margin: 0; }
.v-app-bar, header.v-toolbar { background-color: #12436D !important; }
.pfpp-caption { font-size: 12.5px; color: #505050; margin: -6px 0 10px 0; line-height: 1.3; }
.pfpp-sidebar h3 { font-size: 16px; margin: 14px 0 4px 0; }
.pfpp-why { background: #f8f8f8; border-left: 5px solid #12436D; padding: 6px 12px; }
.pfpp-why h3 { font-size: 19px; margin: 4px 0; }
.pfpp-why-charts { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px 18px; }
.pfpp-why-metric p { font-size: 13px; color: #3d3d3d; margin: 2px 0 6px 0; line-height: 1.3; }
.pfpp-why-method { font-size: 13.5px; color: #3d3d3d; }
.pfpp-why-status { font-size: 15px; color: #3d3d3d; }
"""
"""The page's CSS, given to ``solara.Style`` once per page."""
