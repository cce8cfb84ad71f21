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
        for logical_id, resource in synthesized.resources("AWS::Lambda::Function").items()
    }


def resolve_definition(synthesized: Synthesized) -> str:
    """The definition string with each substitution replaced by a fake ARN of its function."""
    (state_machine,) = synthesized.resources("AWS::StepFunctions::StateMachine").values()
    properties = state_machine["Properties"]
    function_ids = function_ids_by_logical_id(synthesized)
    text = properties["DefinitionString"]
    assert isinstance(text, str), "the definition must be a plain string, not a token"
    for placeholder, value in properties["DefinitionSubstitutions"].items():
        logical_id, attribute = value["Fn::GetAtt"]
        assert attribute == "Arn"
        text = text.replace("${" + placeholder + "}", FAKE_ARN.format(function_ids[logical_id]))
    return text


def test_state_machine_definition_matches_spec(synthesized: Synthesized) -> None:
    arns = {function.id: FAKE_ARN.format(function.id) for function in spec.FUNCTIONS}

    resolved = resolve_definition(synthesized)

    assert not re.search(r"\$\{[^}]*\}", resolved), "a placeholder was left unsubstituted"
    assert json.loads(resolved) == json.loads(spec.INVOICE_RUN.definition(arns))


def test_state_machine_substitutes_exactly_the_spec_placeholders(synthesized: Synthesized) -> None:
    (state_machine,) = synthesized.resources("AWS::StepFunctions::StateMachine").values()
    function_ids = function_ids_by_logical_id(synthesized)
    substitutions = state_machine["Properties"]["DefinitionSubstitutions"]

    assert {
        placeholder: function_ids[value["Fn::GetAtt"][0]]
        for placeholder, value in substitutions.items()
    } == spec.INVOICE_RUN.function_substitutions


def test_every_spec_function_is_deployed_as_specified(synthesized: Synthesized) -> None:
    deployed = {
        resource["Properties"]["Handler"]: resource["Properties"]
        for resource in synthesized.resources("AWS::Lambda::Function").values()
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
    )
    components = {function.handler: function.component for function in spec.FUNCTIONS}
    resources = {table.env_var: table.id + "TableName" for table in spec.TABLES}
    resources |= {bucket.env_var: bucket.id + "BucketName" for bucket in spec.BUCKETS}

    for resource in synthesized.resources("AWS::Lambda::Function").values():
        properties = resource["Properties"]
        variables = properties["Environment"]["Variables"]
        assert set(variables) == set(expected) | {"POWERTOOLS_SERVICE_NAME"}
        assert variables["POWERTOOLS_SERVICE_NAME"] == components[properties["Handler"]]
        for env_var, output_id in resources.items():
            assert variables[env_var] == {"Ref": synthesized.output_ref(output_id)}
        settings = {key: variables[key] for key in spec.default_settings()}
        assert settings == spec.default_settings()
