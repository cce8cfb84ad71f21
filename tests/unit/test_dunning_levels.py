"""The levels file: what the shipped one says, and how a broken one is refused."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shared.dunning.levels import LevelsError, load_levels, parse_levels, shipped_levels

SHIPPED = Path(__file__).resolve().parents[2] / "shared" / "data" / "dunning_levels.json"


def shipped() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SHIPPED.read_text(encoding="utf-8"))
    return data


def test_the_shipped_levels_run_from_a_free_reminder_to_the_agency() -> None:
    levels = shipped_levels()

    assert [(lv.key, lv.fee, lv.actions[-1]) for lv in levels.levels] == [
        ("reminder", Decimal("0.00"), "notice"),
        ("first_notice", Decimal("2.50"), "flat_fee"),
        ("second_notice", Decimal("5.00"), "interest"),
        ("final_notice", Decimal("5.00"), "interest"),
        ("suspension", Decimal("0.00"), "suspend"),
        ("handover", Decimal("0.00"), "handover"),
    ]
    assert (levels.interest.consumer_points, levels.interest.business_points) == (5, 9)
    assert levels.interest.business_flat_fee == Decimal("40.00")
    assert levels.agency is not None
    assert levels.language_for("AT") == "de"
    assert levels.language_for("FR") == "en"
    assert levels.return_reason("AM04", "en") == "insufficient funds"


def test_a_file_path_is_read_like_the_shipped_name(tmp_path: Path) -> None:
    data = shipped()
    data["levels"][1]["fee"] = "1.50"
    own = tmp_path / "levels.json"
    own.write_text(json.dumps(data), encoding="utf-8")

    assert load_levels(str(own)).level(2).fee == Decimal("1.50")


def refused(change: Any) -> str:
    data = shipped()
    change(data)
    with pytest.raises(LevelsError) as error:
        parse_levels(json.dumps(data), source="test.json")
    return str(error.value)


def test_a_first_reminder_with_a_fee_is_refused() -> None:
    message = refused(lambda d: d["levels"][0].update(fee="1.00"))

    assert message == (
        "dunning levels file test.json: levels[0].fee: the reminder that puts the customer in "
        "default is free"
    )


def test_interest_before_default_is_refused() -> None:
    message = refused(lambda d: d["levels"][0]["actions"].append("interest"))

    assert "levels[0].actions: interest needs a customer already in default" in message


def test_a_handover_before_the_last_level_is_refused() -> None:
    def move(data: dict[str, Any]) -> None:
        data["levels"][4]["actions"].append("handover")
        data["levels"][4]["agency"] = data["levels"][5]["agency"]

    assert "levels[4].actions: handover ends dunning" in refused(move)


def test_a_level_without_a_deadline_before_the_last_is_refused() -> None:
    message = refused(lambda d: d["levels"][2].pop("deadline_days"))

    assert "levels[2].deadline_days: every level but the last sets a new deadline" in message


def test_an_unknown_placeholder_is_refused_naming_the_field() -> None:
    message = refused(lambda d: d["levels"][1]["intro"].update(en="Pay {amount} now."))

    assert message == "dunning levels file test.json: levels.1.intro: unknown placeholder {amount}"


def test_a_fee_in_fractions_of_a_cent_is_refused() -> None:
    message = refused(lambda d: d["levels"][1].update(fee="2.505"))

    assert message == "dunning levels file test.json: levels.1.fee: must be whole cents"


def test_a_handover_without_its_agency_is_refused() -> None:
    message = refused(lambda d: d["levels"][5].pop("agency"))

    assert "agency: a handover level names its agency" in message


def test_a_text_missing_a_language_is_refused() -> None:
    message = refused(lambda d: d["levels"][3]["title"].pop("en"))

    assert message == "dunning levels file test.json: levels.3.title.en: Field required"


def test_a_file_that_is_not_json_is_refused() -> None:
    with pytest.raises(LevelsError, match=r"^dunning levels file x: not JSON"):
        parse_levels("{levels: ", source="x")


def test_a_missing_file_is_refused_with_its_name() -> None:
    with pytest.raises(LevelsError, match=r"dunning levels file /nowhere/levels\.json: cannot"):
        load_levels("/nowhere/levels.json")
