"""The synthesized template and the local resources agree: both come from infra/spec.py."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra import spec
from tests.infrastructure.conftest import Synthesized

pytestmark = pytest.mark.xdist_group("cdk")

FAKE_ARN = "arn:aws:lambda:eu-central-1:123456789012:function:{}"


def key_schema(partition_key: spec.Key, sort_key: spec.Key | None) -> list[dict[str, str]]:
    keys = [{"AttributeName": partition_key.name, "KeyType": "HASH"}]
    if sort_key:
        keys.append({"AttributeName": sort_key.name, "KeyType": "RANGE"})
    return keys


def attribute_definitions(table: spec.TableSpec) -> list[dict[str, str]]:
    keys = [table.partition_key, table.sort_key]
    keys += [key for index in table.indexes for key in (index.partition_key, index.sort_key)]
    types = {key.name: key.type for key in keys if key}
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in sorted(types.items())]


def table_resource(synthesized: Synthesized, table: spec.TableSpec) -> dict[str, Any]:
    logical_id = synthesized.output_ref(table.id + "TableName")
    properties: dict[str, Any] = synthesized.template["Resources"][logical_id]["Properties"]
    return properties


@pytest.mark.parametrize("table", spec.TABLES, ids=lambda table: table.id)
def test_table_keys_and_indexes_match_spec(synthesized: Synthesized, table: spec.TableSpec) -> None:
    properties = table_resource(synthesized, table)

    assert properties["KeySchema"] == key_schema(table.partition_key, table.sort_key)
    assert sorted(properties["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == (
        attribute_definitions(table)
    )
    indexes = {
        index["IndexName"]: index["KeySchema"]
        for index in properties.get("GlobalSecondaryIndexes", [])
    }
    assert indexes == {
        index.name: key_schema(index.partition_key, index.sort_key) for index in table.indexes
    }


@pytest.mark.parametrize("table", spec.TABLES, ids=lambda table: table.id)
def test_table_ttl_matches_spec(synthesized: Synthesized, table: spec.TableSpec) -> None:
    ttl = table_resource(synthesized, table).get("TimeToLiveSpecification")

    if table.ttl_attribute is None:
        assert ttl is None
    else:
        assert ttl == {"AttributeName": table.ttl_attribute, "Enabled": True}


def test_every_table_comes_from_spec(synthesized: Synthesized) -> None:
    assert len(synthesized.resources("AWS::DynamoDB::Table")) == len(spec.TABLES)


@pytest.mark.parametrize("bucket", spec.BUCKETS, ids=lambda bucket: bucket.id)
def test_bucket_lock_and_versioning_match_spec(
    synthesized: Synthesized, bucket: spec.BucketSpec
) -> None:
    logical_id = synthesized.output_ref(bucket.id + "BucketName")
    properties = synthesized.template["Resources"][logical_id]["Properties"]

    assert properties.get("ObjectLockEnabled", False) is bucket.object_lock
    versioning = properties.get("VersioningConfiguration", {}).get("Status")
    assert (versioning == "Enabled") is bucket.versioned


def function_ids_by_logical_id(synthesized: Synthesized) -> dict[str, str]:
    by_handler = {function.handler: function.id for function in spec.FUNCTIONS}
    return {
        logical_id: by_handler[resource["Properties"]["Handler"]]
        for logical_id, resource in synthesized.billing_functions().items()
    }


def state_machine_resource(
    synthesized: Synthesized, machine: spec.StateMachineSpec
) -> dict[str, Any]:
    logical_id = synthesized.output_ref(machine.id + "StateMachineArn")
    resource: dict[str, Any] = synthesized.template["Resources"][logical_id]
    return resource


def resolve_definition(synthesized: Synthesized, machine: spec.StateMachineSpec) -> str:
    """The definition string with each substitution replaced by a fake ARN of its function."""
    properties = state_machine_resource(synthesized, machine)["Properties"]
    function_ids = function_ids_by_logical_id(synthesized)
    text = properties["DefinitionString"]
    assert isinstance(text, str), "the definition must be a plain string, not a token"
    for placeholder, value in properties["DefinitionSubstitutions"].items():
        logical_id, attribute = value["Fn::GetAtt"]
        assert attribute == "Arn"
        text = text.replace("${" + placeholder + "}", FAKE_ARN.format(function_ids[logical_id]))
    return text


def test_every_state_machine_comes_from_spec(synthesized: Synthesized) -> None:
    deployed = synthesized.resources("AWS::StepFunctions::StateMachine")

    assert len(deployed) == len(spec.STATE_MACHINES)
    assert {synthesized.output_ref(m.id + "StateMachineArn") for m in spec.STATE_MACHINES} == set(
        deployed
    )


@pytest.mark.parametrize("machine", spec.STATE_MACHINES, ids=lambda machine: machine.id)
def test_state_machine_definition_matches_spec(
    synthesized: Synthesized, machine: spec.StateMachineSpec
) -> None:
    arns = {function.id: FAKE_ARN.format(function.id) for function in spec.FUNCTIONS}

    resolved = resolve_definition(synthesized, machine)

    assert not re.search(r"\$\{[^}]*\}", resolved), "a placeholder was left unsubstituted"
    assert json.loads(resolved) == json.loads(machine.definition(arns))


@pytest.mark.parametrize("machine", spec.STATE_MACHINES, ids=lambda machine: machine.id)
def test_state_machine_substitutes_exactly_the_spec_placeholders(
    synthesized: Synthesized, machine: spec.StateMachineSpec
) -> None:
    function_ids = function_ids_by_logical_id(synthesized)
    substitutions = state_machine_resource(synthesized, machine)["Properties"][
        "DefinitionSubstitutions"
    ]

    assert {
        placeholder: function_ids[value["Fn::GetAtt"][0]]
        for placeholder, value in substitutions.items()
    } == machine.function_substitutions


def test_every_spec_function_is_deployed_as_specified(synthesized: Synthesized) -> None:
    deployed = {
        resource["Properties"]["Handler"]: resource["Properties"]
        for resource in synthesized.billing_functions().values()
    }

    assert set(deployed) == {function.handler for function in spec.FUNCTIONS}
    for function in spec.FUNCTIONS:
        properties = deployed[function.handler]
        assert properties["MemorySize"] == function.memory_mb
        assert properties["Timeout"] == function.timeout_seconds
        assert properties["Description"] == function.description


def test_functions_get_the_spec_environment(synthesized: Synthesized) -> None:
    expected = spec.function_environment(
        table_names={table.id: table.id for table in spec.TABLES},
        bucket_names={bucket.id: bucket.id for bucket in spec.BUCKETS},
        settings=spec.default_settings(),
        queue_urls={queue.id: queue.id for queue in spec.QUEUES},
        bus_names={bus.id: bus.id for bus in spec.EVENT_BUSES},
    )
    components = {function.handler: function.component for function in spec.FUNCTIONS}
    machine_env = {machine.id: machine.env_var for machine in spec.STATE_MACHINES}
    starters = {
        function.handler: {machine_env[m] for m in function.starts_state_machines}
        for function in spec.FUNCTIONS
    }
    resources = {table.env_var: table.id + "TableName" for table in spec.TABLES}
    resources |= {bucket.env_var: bucket.id + "BucketName" for bucket in spec.BUCKETS}
    resources |= {queue.env_var: queue.id + "QueueUrl" for queue in spec.QUEUES if queue.env_var}
    resources |= {bus.env_var: bus.id + "BusName" for bus in spec.EVENT_BUSES}

    for resource in synthesized.billing_functions().values():
        properties = resource["Properties"]
        variables = properties["Environment"]["Variables"]
        starts = starters[properties["Handler"]]
        assert set(variables) == set(expected) | {"POWERTOOLS_SERVICE_NAME"} | starts
        assert variables["POWERTOOLS_SERVICE_NAME"] == components[properties["Handler"]]
        for env_var, output_id in resources.items():
            assert variables[env_var] == {"Ref": synthesized.output_ref(output_id)}
        settings = {key: variables[key] for key in spec.default_settings()}
        assert settings == spec.default_settings()


def queue_logical_id(synthesized: Synthesized, queue: spec.QueueSpec) -> str:
    construct = synthesized.stack.queues.by_id[queue.id]
    return logical_id_of(synthesized, construct)


def logical_id_of(synthesized: Synthesized, construct: Any) -> str:
    resource = construct.node.default_child
    return str(synthesized.stack.get_logical_id(resource))


@pytest.mark.parametrize("queue", spec.QUEUES, ids=lambda queue: queue.id)
def test_queues_match_spec(synthesized: Synthesized, queue: spec.QueueSpec) -> None:
    properties = synthesized.template["Resources"][queue_logical_id(synthesized, queue)][
        "Properties"
    ]

    assert properties.get("VisibilityTimeout", 30) == queue.visibility_timeout_seconds
    assert properties["MessageRetentionPeriod"] == queue.retention_days * 24 * 3600
    if queue.dead_letter_queue is None:
        assert "RedrivePolicy" not in properties
    else:
        dead_letters = queue_logical_id(synthesized, queue.dead_letter_queue)
        assert properties["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [dead_letters, "Arn"]},
            "maxReceiveCount": queue.max_receive_count,
        }
    if queue.env_var:
        assert synthesized.output_ref(queue.id + "QueueUrl") == queue_logical_id(synthesized, queue)


def test_event_sources_match_spec(synthesized: Synthesized) -> None:
    function_ids = function_ids_by_logical_id(synthesized)
    deployed = {
        (
            resource["Properties"]["EventSourceArn"]["Fn::GetAtt"][0],
            function_ids[resource["Properties"]["FunctionName"]["Ref"]],
        ): resource["Properties"]
        for resource in synthesized.resources("AWS::Lambda::EventSourceMapping").values()
    }
    queues = {queue.id: queue for queue in spec.QUEUES}

    assert len(deployed) == len(spec.EVENT_SOURCES)
    for source in spec.EVENT_SOURCES:
        queue_id = queue_logical_id(synthesized, queues[source.queue_id])
        properties = deployed[(queue_id, source.function_id)]
        assert properties["BatchSize"] == source.batch_size
        assert properties["ScalingConfig"] == {"MaximumConcurrency": source.maximum_concurrency}
        responses = ["ReportBatchItemFailures"] if source.report_batch_item_failures else None
        assert properties.get("FunctionResponseTypes") == responses


def test_reserved_concurrency_matches_spec(synthesized: Synthesized) -> None:
    deployed = {
        resource["Properties"]["Handler"]: resource["Properties"]
        for resource in synthesized.billing_functions().values()
    }

    for function in spec.FUNCTIONS:
        reserved = deployed[function.handler].get("ReservedConcurrentExecutions")
        assert reserved == function.reserved_concurrency, function.id


def test_the_schedules_match_spec(synthesized: Synthesized) -> None:
    deployed = list(synthesized.resources("AWS::Scheduler::Schedule").values())
    functions = synthesized.billing_functions()
    handlers = {function.id: function.handler for function in spec.FUNCTIONS}
    by_handler = {
        functions[d["Properties"]["Target"]["Arn"]["Fn::GetAtt"][0]]["Properties"]["Handler"]: d[
            "Properties"
        ]
        for d in deployed
    }

    assert len(deployed) == len(spec.SCHEDULES) == len(by_handler)
    for schedule_spec in spec.SCHEDULES:
        properties = by_handler[handlers[schedule_spec.function_id]]
        assert properties["ScheduleExpression"] == schedule_spec.expression
        assert properties["ScheduleExpressionTimezone"] == schedule_spec.timezone
        assert json.loads(properties["Target"]["Input"]) == {
            "scheduled_time": "<aws.scheduler.scheduled-time>"
        }


def test_each_schedule_function_may_start_only_its_run(synthesized: Synthesized) -> None:
    statements = [
        statement
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "states:StartExecution" in _listed(statement["Action"])
        and "states:ListExecutions" in _listed(statement["Action"])
    ]

    machines = [synthesized.output_ref(m.id + "StateMachineArn") for m in spec.STATE_MACHINES]
    assert sorted(str(s["Resource"]) for s in statements) == sorted(
        str({"Ref": machine}) for machine in machines
    )


def _listed(actions: str | list[str]) -> list[str]:
    return [actions] if isinstance(actions, str) else actions


def test_the_statement_import_uses_the_spec_prefixes() -> None:
    from shared.payments import import_run

    assert import_run.STATEMENT_PREFIX == spec.STATEMENT_PREFIX
    assert import_run.REPORTS_PREFIX == spec.STATEMENT_REPORTS_PREFIX
