"""Calibration: fit the baseline to official statistics, and fitted parameter files.

- :mod:`~pfpp_sim.calibration.targets`: the official moments and their weights;
- :mod:`~pfpp_sim.calibration.fit`: simulated method of moments with common random numbers;
- :mod:`~pfpp_sim.calibration.fitted`: the fitted TOML files scenarios name;
- :mod:`~pfpp_sim.calibration.diagnostics`: a fit's warnings (not converged, not identified);
- :mod:`~pfpp_sim.calibration.coverage`: runs on places outside their calibration's fit;
- :mod:`~pfpp_sim.calibration.report`: the fit report (HTML and PNG).
"""

from pfpp_sim.calibration.fit import Calibrated, Settings, calibrate
from pfpp_sim.calibration.fitted import FitFile, list_fits, read_fit, write_fit
from pfpp_sim.calibration.targets import observed_targets

__all__ = ["Calibrated", "FitFile", "Settings", "calibrate", "list_fits", "observed_targets", "read_fit", "write_fit"]
