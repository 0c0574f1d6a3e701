"""The SYNTHETIC sample: the wave generator, its calibration targets and the committed landing folder."""
