"""The response contract: codebooks and wave declarations, the trust reference list, the quarantine rules
and the pandera schema generated from a codebook.

What does not belong here: reading survey-tool exports (``exports``), a survey home's folders and settings
(``home``), validating a wave's rows (``validation``), or the warehouse.
"""
