"""The teaching app's stylesheet: sizes for a projector, the two sides' colours, the drawer's captions."""

__all__ = ["CSS"]

CSS = """
.pfpp-app { min-height: 100vh; }
.pfpp-header { background: #12436D; color: white; padding: 6px 12px; flex-wrap: wrap; }
.pfpp-header .v-sheet { background: transparent !important; color: white; }
.pfpp-header .v-btn { color: white !important; }
.pfpp-header .v-btn--disabled { color: #c8d3de !important; }
.pfpp-title { font-size: 20px; font-weight: 500; margin: 0 8px; }
.pfpp-body { align-items: flex-start; flex-wrap: nowrap; }
.pfpp-drawer { flex: 0 0 340px; width: 340px; position: sticky; top: 0; max-height: 100vh; overflow-y: auto; padding: 4px 12px 24px 12px; border-right: 1px solid #d0d0d0; }
.pfpp-drawer-closed { display: none !important; }
.pfpp-main { flex: 1 1 0; min-width: 0; font-size: 16px; padding: 8px 12px 48px 12px; }
.pfpp-sides { flex-wrap: nowrap; align-items: flex-start; }
.pfpp-sides > .pfpp-side { flex: 1 1 0; min-width: 0; }
.pfpp-lever-label { font-size: 15px; font-weight: 500; margin-top: 6px; }
.pfpp-lever-value { color: #12436D; }
.pfpp-changed { font-size: 13px; font-weight: bold; color: #801650; background: #F7E8EF; padding: 0 4px; white-space: nowrap; }
.pfpp-drawer .pfpp-lever-changed .v-slider-track__fill { background-color: #801650 !important; }
.pfpp-levers-changed { color: #801650; margin: 0 0 4px 0; }
.pfpp-play-options { font-size: 15px; }
.pfpp-toolbar-label { color: #3d3d3d; align-self: center; }
.pfpp-play-options .v-input--density-default { --v-input-control-height: 40px; }
.pfpp-drawer .v-switch .v-input__details, .pfpp-drawer .v-slider .v-input__details { display: none; }
.pfpp-info { background: #f8f8f8; border-left: 5px solid #28A197; padding: 4px 12px 8px 12px; }
.pfpp-info-title { font-size: 22px; margin: 0 8px 0 0; }
.pfpp-info-text { font-size: 16px; line-height: 1.4; max-height: 70vh; overflow-y: auto; }
.pfpp-info-text table { border-collapse: collapse; margin: 6px 0; }
.pfpp-info-text th, .pfpp-info-text td { border-bottom: 1px solid #d0d0d0; padding: 4px 8px; text-align: left !important; vertical-align: top; }
.pfpp-link-refused { background: #F7E8EF; border-left: 5px solid #801650; padding: 2px 10px; font-size: 16px; color: #0b0c0c; }
.pfpp-toolbar { align-items: center; flex-wrap: wrap; }
.pfpp-month { font-size: 22px; font-weight: bold; color: #1a1a1a; margin-left: 12px; }
.pfpp-side h2 { font-size: 22px; margin: 4px 0 0 0; }
.pfpp-side-month { font-size: 16px; font-weight: bold; color: #3d3d3d; margin-bottom: 4px; }
.pfpp-monitors { display: grid; grid-template-columns: repeat(auto-fill, minmax(9em, 1fr)); gap: 6px; margin-bottom: 8px; }
.pfpp-monitor { background: #f3f2f1; padding: 6px 8px; border-left: 5px solid #505050; }
.pfpp-monitor .pfpp-label { font-size: 13px; color: #3d3d3d; }
.pfpp-monitor .pfpp-value { font-size: 21px; font-weight: bold; color: #0b0c0c; white-space: nowrap; }
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
.pfpp-narrative { font-size: 15px; line-height: 1.35; background: #f8f8f8; padding: 6px 10px; min-height: 150px; }
.pfpp-narrative ul { padding-left: 18px; margin: 0; }
.pfpp-caption { font-size: 12.5px; color: #505050; margin: -6px 0 10px 0; line-height: 1.3; }
.pfpp-drawer h3 { font-size: 16px; margin: 14px 0 4px 0; }
.pfpp-why { background: #f8f8f8; border-left: 5px solid #12436D; padding: 6px 12px; }
.pfpp-why h3 { font-size: 19px; margin: 4px 0; }
.pfpp-why-charts { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px 18px; }
.pfpp-why-metric p { font-size: 13px; color: #3d3d3d; margin: 2px 0 6px 0; line-height: 1.3; }
.pfpp-why-method { font-size: 13.5px; color: #3d3d3d; }
.pfpp-why-status { font-size: 15px; color: #3d3d3d; }

.pfpp-presenting .pfpp-main { font-size: 18px; }
.pfpp-presenting .pfpp-charts { grid-template-columns: 1fr; }
.pfpp-presenting .pfpp-monitors { grid-template-columns: repeat(auto-fill, minmax(10em, 1fr)); }
.pfpp-presenting .pfpp-monitor .pfpp-label { font-size: 15px; }
.pfpp-presenting .pfpp-monitor .pfpp-value { font-size: 26px; }
.pfpp-presenting .pfpp-narrative { font-size: 17px; }
.pfpp-presenting .pfpp-causes table, .pfpp-presenting .pfpp-causes caption { font-size: 17px; }
"""
"""The page's CSS, given to ``solara.Style`` once per page."""
