"""The base of every model read from a person's YAML (codebooks, wave declarations): unknown keys are
refused, so a typo is an error rather than a setting silently ignored, and models are immutable."""

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
