"""Dagster assets and their checks, and the resource they use: thin wrappers over the plain functions of
``warehouse``, the validation engine, ``publish`` and ``home``.

What does not belong here: the definitions, jobs, sensors and the command (``pipelines``, which this
package never imports), or any logic a test could run without Dagster.
"""
