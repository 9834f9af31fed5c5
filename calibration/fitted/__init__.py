"""The fits shipped with the package (``calibration = "pilots"``); ``pfpp calibrate`` writes new ones."""
