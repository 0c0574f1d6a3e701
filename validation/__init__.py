"""Validating a wave's rows against its codebook; the one engine.

What belongs here: turning a wave's files (read by ``exports``) into validated rows and quarantined ones,
by the rules of its codebook (``schemas``). What does not: reading survey-tool exports (``exports``),
loading the warehouse (``warehouse``, which takes a validated wave from here), or Dagster.

The engine itself is still in ``schemas.validation`` and ``schemas.staged_validation`` until it moves here.
"""
