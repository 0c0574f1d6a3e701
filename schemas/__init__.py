"""The response contract: codebooks and wave declarations, the trust reference list, the quarantine rules
and the pandera schema generated from a codebook.

What does not belong here: reading survey-tool exports (``exports``), a survey home's folders and settings
(``home``), or the warehouse. Until it moves to ``validation``, the validation engine is here too
(``validation``, ``staged_validation``, ``staging``).
"""
