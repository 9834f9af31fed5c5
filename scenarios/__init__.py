"""The presets: scenario files installed with the package (``pfpp scenarios list``)."""
