"""Shared pieces of every result: an estimate with its interval."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, field_validator


class Frozen(BaseModel):
    """The one base for records and results: immutable, no unknown fields, JSON-friendly."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Estimate(Frozen):
    """A number with its confidence interval; ``None`` where undefined (e.g. a rate over an empty set)."""

    value: float | None
    low: float | None = None
    high: float | None = None

    @field_validator("value", "low", "high", mode="before")
    @classmethod
    def _nan_is_none(cls, number: object) -> object:
        if isinstance(number, float) and (math.isnan(number) or math.isinf(number)):
            return None
        return number

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None
