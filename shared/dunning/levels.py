"""The dunning levels as data: days, fees, texts and actions of each level, validated on load.

The file (``shared/data/dunning_levels.json`` unless ``BILLING_DUNNING_LEVELS_FILE`` names another)
also holds the interest terms of § 288 BGB, the legal texts of the notices and the wording of
SEPA return reasons, each in German and English. A file that breaks a rule is refused as a whole
with the field and the reason, so a run never works from half a configuration.
"""

from __future__ import annotations

import json
import string
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.money import to_cents

Language = Literal["de", "en"]
Action = Literal["notice", "interest", "flat_fee", "suspend", "handover"]
DEFAULT_FILE = "dunning_levels.json"

# What the texts of a level may name; the notice fills them in.
LEVEL_PLACEHOLDERS = frozenset({"deadline", "total", "agency", "notice_number", "customer_id"})
LEGAL_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "interest_consumer": frozenset({"points"}),
    "interest_business": frozenset({"points"}),
    "flat_fee": frozenset(),
    "no_vat": frozenset(),
    "returned_debit": frozenset({"reason_code", "reason"}),
    "payment": frozenset({"total", "deadline", "iban", "bic", "notice_number", "customer_id"}),
    "already_paid": frozenset(),
}


class LevelsError(ValueError):
    """A levels file that cannot be used; the message names the file, the field and the reason."""


class Text(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    de: str = Field(min_length=1, max_length=1200)
    en: str = Field(min_length=1, max_length=1200)

    def get(self, language: Language) -> str:
        return self.de if language == "de" else self.en

    def placeholders(self) -> set[str]:
        return placeholders_of(self.de) | placeholders_of(self.en)


def placeholders_of(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as error:
        raise ValueError(f"not a valid text template: {error}") from error


class Agency(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")
    name: str = Field(min_length=2, max_length=120)


class Level(BaseModel):
    """One level. It is reached ``after_days`` after the due date of the oldest unpaid item (the
    first level) or after the previous level's deadline (every other level), if the claim is
    still open; its notice sets the new deadline ``deadline_days`` after its date."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{1,30}$")
    after_days: int = Field(ge=1, le=365)
    deadline_days: int | None = Field(default=None, ge=1, le=120)
    fee: Decimal = Field(ge=0, le=1000)
    # The least open claim for which the level is reached (telephone services: a suspension
    # needs at least 100 EUR in default, § 61 TKG); below it the case waits at the level before.
    minimum_open: Decimal | None = Field(default=None, ge=0, le=100_000)
    actions: tuple[Action, ...] = Field(min_length=1)
    title: Text
    intro: Text
    closing: Text
    agency: Agency | None = None

    @field_validator("fee")
    @classmethod
    def _whole_cents(cls, fee: Decimal) -> Decimal:
        if fee != to_cents(fee):
            raise ValueError("must be whole cents")
        return to_cents(fee)

    @field_validator("actions")
    @classmethod
    def _once_each(cls, actions: tuple[Action, ...]) -> tuple[Action, ...]:
        if len(set(actions)) != len(actions):
            raise ValueError("names an action twice")
        return actions

    @field_validator("intro", "closing", "title")
    @classmethod
    def _known_placeholders(cls, text: Text) -> Text:
        unknown = text.placeholders() - LEVEL_PLACEHOLDERS
        if unknown:
            raise ValueError(f"unknown placeholder {{{sorted(unknown)[0]}}}")
        return text

    @model_validator(mode="after")
    def _agency_with_handover(self) -> Level:
        if ("handover" in self.actions) != (self.agency is not None):
            raise ValueError("agency: a handover level names its agency, other levels none")
        return self

    def does(self, action: Action) -> bool:
        return action in self.actions


class InterestTerms(BaseModel):
    """§ 288 BGB: points above the base rate, and the flat charge for businesses (§ 288 (5))."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    consumer_points: Decimal = Field(ge=0, le=20)
    business_points: Decimal = Field(ge=0, le=20)
    business_flat_fee: Decimal = Field(ge=0, le=1000)
    # § 288 (5) sentence 3: costs of pursuing the claim are set off against the flat charge.
    fees_count_against_flat_fee: bool = True
    days_in_year: Literal[365] = 365


class LegalTexts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    interest_consumer: Text
    interest_business: Text
    flat_fee: Text
    no_vat: Text
    returned_debit: Text
    payment: Text
    already_paid: Text

    @model_validator(mode="after")
    def _known_placeholders(self) -> LegalTexts:
        for name, allowed in LEGAL_PLACEHOLDERS.items():
            unknown = getattr(self, name).placeholders() - allowed
            if unknown:
                raise ValueError(f"legal.{name}: unknown placeholder {{{sorted(unknown)[0]}}}")
        return self


class DunningLevels(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str = ""
    interest: InterestTerms
    german_countries: tuple[str, ...] = Field(min_length=1)
    legal: LegalTexts
    return_reasons: dict[str, Text] = Field(default_factory=dict)
    levels: tuple[Level, ...] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _rules(self) -> DunningLevels:
        keys = [level.key for level in self.levels]
        if len(set(keys)) != len(keys):
            raise ValueError("levels: two levels share a key")
        _check_first_level(self.levels[0])
        for index, level in enumerate(self.levels):
            _check_level(index, level, last=index == len(self.levels) - 1)
        if sum(level.does("suspend") for level in self.levels) > 1:
            raise ValueError("levels: services are suspended at one level only")
        return self

    def level(self, number: int) -> Level:
        """The level by its number, 1 for the first."""
        return self.levels[number - 1]

    @property
    def agency(self) -> Agency | None:
        return next((level.agency for level in self.levels if level.agency), None)

    def language_for(self, country: str) -> Language:
        return "de" if country in self.german_countries else "en"

    def return_reason(self, code: str, language: Language) -> str:
        text = self.return_reasons.get(code)
        return text.get(language) if text else code


def _check_first_level(level: Level) -> None:
    """The first reminder puts the customer in default, so it may cost nothing (§ 286 BGB)."""
    if level.fee != 0:
        raise ValueError("levels[0].fee: the reminder that puts the customer in default is free")
    if not level.does("notice"):
        raise ValueError("levels[0].actions: the first level sends the reminder (notice)")
    later: tuple[Action, ...] = ("interest", "flat_fee", "suspend", "handover")
    for action in later:
        if level.does(action):
            raise ValueError(f"levels[0].actions: {action} needs a customer already in default")


def _check_level(index: int, level: Level, *, last: bool) -> None:
    where = f"levels[{index}]"
    if level.does("handover") and not last:
        raise ValueError(f"{where}.actions: handover ends dunning, so only the last level has it")
    if not last and level.deadline_days is None:
        raise ValueError(f"{where}.deadline_days: every level but the last sets a new deadline")
    if not level.does("notice") and level.fee > 0:
        raise ValueError(f"{where}.fee: a fee is charged with a notice that shows it")


def load_levels(name: str = DEFAULT_FILE) -> DunningLevels:
    """The levels from a file path, or from a file of shared/data when ``name`` is a bare name."""
    path = Path(name)
    try:
        if path.is_absolute() or path.parent != Path("."):
            raw = path.read_text(encoding="utf-8")
        else:
            raw = resources.files("shared.data").joinpath(name).read_text(encoding="utf-8")
    except OSError as error:
        raise LevelsError(f"dunning levels file {name}: cannot be read ({error})") from error
    return parse_levels(raw, source=name)


def parse_levels(raw: str, *, source: str = "levels") -> DunningLevels:
    try:
        return DunningLevels.model_validate(json.loads(raw))
    except json.JSONDecodeError as error:
        raise LevelsError(f"dunning levels file {source}: not JSON ({error})") from error
    except ValidationError as error:
        raise LevelsError(f"dunning levels file {source}: {first_problem(error)}") from error


def first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    location = ".".join(str(part) for part in problem["loc"])
    message = str(problem["msg"]).removeprefix("Value error, ")
    return f"{location}: {message}" if location else message


@cache
def shipped_levels() -> DunningLevels:
    return load_levels(DEFAULT_FILE)
