"""Validating a wave's rows against its codebook: the one engine.

Every file of a wave becomes rows of the wave's staging database (``files``); every rule of the response
contract runs once against them (``rules``); failures become quarantine entries with a one-line reason
(``quarantine``); ``engine.validate_wave`` puts the three together. What does not belong here: reading
survey-tool layouts (the export readers) and loading the warehouse.
"""
