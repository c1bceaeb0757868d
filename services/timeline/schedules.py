"""The child health schedules as data: the UK routine immunisation schedule and the mandated
health-visiting reviews, loaded from `child_health.toml` and checked whole at first use.

Kept apart from the code that compares them with a child's entries (services/timeline/child_health.py)
so a county that follows a later schedule changes a data file, with its source and date, not code.
"""

from __future__ import annotations

import calendar
import tomllib
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from schemas.errors import HubnetError

SCHEDULE_FILE = Path(__file__).with_name("child_health.toml")


class Age(BaseModel):
    """An age counted from the date of birth: days, weeks or months (one of them)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    days: int = Field(default=0, ge=0)
    weeks: int = Field(default=0, ge=0)
    months: int = Field(default=0, ge=0)

    def on(self, born: date) -> date:
        """The day a child born on `born` reaches this age (29 Feb + 12 months is 28 Feb)."""
        total = born.month - 1 + self.months
        year, month = born.year + total // 12, total % 12 + 1
        day = min(born.day, calendar.monthrange(year, month)[1])
        return date(year, month, day) + timedelta(days=self.days, weeks=self.weeks)


class Product(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    key: str
    name: str
    terms: tuple[str, ...] = Field(min_length=1)


class Dose(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    product: str
    number: int = Field(ge=1)
    due: Age
    until: Age | None = None
    """After this age the dose is no longer given (not overdue: missed)."""


class Source(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    source: str
    url: str
    as_of: date
    note: str = ""


class Immunisations(Source):
    overdue_after_weeks: int = Field(ge=0)
    product: tuple[Product, ...]
    dose: tuple[Dose, ...]

    @model_validator(mode="after")
    def _doses_name_products(self) -> Immunisations:
        known = {p.key for p in self.product}
        if unknown := sorted({d.product for d in self.dose} - known):
            raise ValueError(f"doses name unknown products {unknown}: add them as [[immunisations.product]]")
        return self

    def product_of(self, text: str) -> Product | None:
        """The first product whose terms appear in a vaccine's lower-cased names."""
        return next((p for p in self.product if any(term in text for term in p.terms)), None)

    def name(self, key: str) -> str:
        return next(p.name for p in self.product if p.key == key)


class Review(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str
    name: str
    start: Age
    end: Age


class Reviews(Source):
    review: tuple[Review, ...] = Field(min_length=1)


class Schedules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    immunisations: Immunisations
    reviews: Reviews


def load_schedules(path: Path = SCHEDULE_FILE) -> Schedules:
    """The schedules of `path`; raises `HubnetError` naming the file and the first problem."""
    try:
        return Schedules.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise HubnetError(f"{path}: cannot read the child health schedules: {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise HubnetError(f"{path}: {where}: {first['msg']}") from None


@cache
def default_schedules() -> Schedules:
    return load_schedules()
