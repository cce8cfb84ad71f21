"""Dunning state in DynamoDB: conditional writes of cases, history, holds, and the CLI on them."""

from __future__ import annotations

import json
from datetime import date

from click.testing import CliRunner

from cli.main import cli
from shared.customers import shard_of
from shared.dunning.model import Case, Hold
from shared.storage.dunning import DynamoDunningStore
from tests.integration.conftest import SHARDS, Aws

ANNA = "C0000001"


def store(aws: Aws) -> DynamoDunningStore:
    return DynamoDunningStore(aws.dynamodb, aws.stack.table_names["Dunning"], SHARDS)


def new_case(customer_id: str = ANNA) -> Case:
    return Case(
        customer_id=customer_id,
        shard=shard_of(customer_id, SHARDS),
        case_id=f"{customer_id}-20260122",
        opened_on=date(2026, 1, 22),
        level=1,
        level_key="reminder",
        since=date(2026, 1, 22),
    )


def test_a_case_is_written_only_over_the_version_it_was_read_at(aws: Aws) -> None:
    cases = store(aws)

    first = cases.save_case(new_case())
    duplicate = cases.save_case(new_case())
    assert first is not None
    second = cases.save_case(first.model_copy(update={"level": 2}))
    stale = cases.save_case(first.model_copy(update={"level": 3}))

    assert duplicate is None
    assert stale is None
    assert second is not None
    assert second.version == 2
    assert cases.case(ANNA) == second
    assert cases.shard_state(second.shard).cases == {ANNA: second}


def test_a_closed_case_leaves_the_shard_for_the_customer_s_history(aws: Aws) -> None:
    cases = store(aws)
    saved = cases.save_case(new_case())
    assert saved is not None

    stale = cases.close_case(new_case(), closed_on=date(2026, 2, 5), reason="paid in full")
    closed = cases.close_case(saved, closed_on=date(2026, 2, 5), reason="paid in full")

    assert (stale, closed) == (False, True)
    assert cases.case(ANNA) is None
    assert cases.shard_state(saved.shard).cases == {}
    (history,) = cases.closed_cases(ANNA)
    assert (history["case_id"], history["closed_on"], history["level"]) == (
        f"{ANNA}-20260122",
        "2026-02-05",
        1,
    )


def test_holds_are_read_with_their_shard_and_removed_one_by_one(aws: Aws) -> None:
    cases = store(aws)
    for hold in (
        Hold(customer_id=ANNA, kind="block", reason="goodwill", set_on=date(2026, 1, 1)),
        Hold(customer_id=ANNA, kind="dispute", item="RE-1", reason="down", set_on=date(2026, 1, 1)),
        Hold(customer_id=ANNA, kind="dispute", item="RE-2", reason="down", set_on=date(2026, 1, 1)),
    ):
        cases.put_hold(hold)

    removed = cases.remove_hold(ANNA, "dispute", "RE-1")
    missing = cases.remove_hold(ANNA, "plan", None)

    assert (removed, missing) == (True, False)
    holds = cases.shard_state(shard_of(ANNA, SHARDS)).holds[ANNA]
    assert sorted((h.kind, h.item) for h in holds.holds) == [("block", None), ("dispute", "RE-2")]
    assert cases.holds(ANNA) == holds


def test_the_cli_sets_shows_and_clears_holds(aws: Aws) -> None:
    runner = CliRunner()

    block = runner.invoke(cli, ["dunning", "block", ANNA, "--reason", "asked by support"])
    dispute = runner.invoke(
        cli, ["dunning", "dispute", ANNA, "RE-2026-00000001", "--reason", "service was down"]
    )
    plan = runner.invoke(
        cli, ["dunning", "plan", ANNA, "--until", "2026-06-30", "--reason", "three instalments"]
    )
    shown = runner.invoke(cli, ["dunning", "show", ANNA, "--json"])
    unblock = runner.invoke(cli, ["dunning", "unblock", ANNA])
    again = runner.invoke(cli, ["dunning", "unblock", ANNA])

    assert [r.exit_code for r in (block, dispute, plan, unblock)] == [0, 0, 0, 0]
    found = json.loads(shown.output)
    assert found["case"] is None
    assert sorted((h["kind"], h["item"], h["until"]) for h in found["holds"]) == [
        ("block", None, None),
        ("dispute", "RE-2026-00000001", None),
        ("plan", None, "2026-06-30"),
    ]
    assert again.exit_code == 1
    assert "has no such block" in again.output
    assert sorted(h.kind for h in store(aws).holds(ANNA).holds) == ["dispute", "plan"]


def test_the_cli_refuses_bad_input_naming_what_is_wrong(aws: Aws) -> None:
    runner = CliRunner()

    bad_customer = runner.invoke(cli, ["dunning", "block", "K123", "--reason", "x" * 5])
    short_reason = runner.invoke(cli, ["dunning", "block", ANNA, "--reason", "no"])

    assert bad_customer.exit_code == 2
    assert "a customer id is C and 7 to 12 digits" in bad_customer.output
    assert short_reason.exit_code == 2
    assert "reason: String should have at least 3 characters" in short_reason.output
    assert store(aws).holds(ANNA).holds == ()
