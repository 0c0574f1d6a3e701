"""A survey home whose warehouse holds wave 2023 of the bundled survey, loaded by a real Dagster run, and a
function running the pipeline for another of its waves in the same instance."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import sample_wave_path

SURVEY_ID = "improvement-journey"


def home_holding_2023(home: Path, persistent: bool = False, **resource_fields):
    """``(home, run)``: ``run(wave_id, **resource_fields)`` materialises every asset for that wave and
    returns Dagster's result (not raising on failure). The Dagster instance is in memory, or with
    ``persistent`` the home's own (``<home>/dagster``, as `survey run` uses it)."""
    import dagster as dg

    from assets.resources import SurveyHomeResource
    from pipelines.definitions import ASSETS

    if persistent:
        from home.settings import Settings, SurveyHome
        from pipelines.instance import instance_for

        instance = instance_for(SurveyHome(home, Settings.defaults().model_copy(update={"home": home})))
    else:
        instance = dg.DagsterInstance.ephemeral()
    landed = home / "landing" / SURVEY_ID / "2023"
    landed.mkdir(parents=True)
    (landed / "wave.csv").write_bytes(sample_wave_path("2023").read_bytes())

    def run(wave_id: str, selection=None, **fields):
        key = f"{SURVEY_ID}/{wave_id}"
        if not instance.has_dynamic_partition("survey_waves", key):
            instance.add_dynamic_partitions("survey_waves", [key])
        resource = SurveyHomeResource(home=str(home), **{**resource_fields, **fields})
        return dg.materialize(ASSETS, partition_key=key, instance=instance, raise_on_error=False,
                              resources={"survey_home": resource}, selection=selection)

    assert run("2023").success
    return home, run


def failure_description(result) -> str:
    [failure] = [e for e in result.all_events if e.is_step_failure]
    return failure.step_failure_data.user_failure_data.description


def check_evaluation(result, name: str):
    return next(e for e in result.get_asset_check_evaluations() if e.asset_check_key.name == name)
