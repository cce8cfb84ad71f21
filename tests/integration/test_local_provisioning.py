"""The embedded AWS holds exactly what the specs (and so the CDK app) declare."""

from __future__ import annotations

from infra import spec
from tests.integration.conftest import Aws


def test_tables_have_the_key_schema_and_indexes_of_the_spec(aws: Aws) -> None:
    for table in spec.TABLES:
        description = aws.dynamodb.describe_table(TableName=table.local_name)["Table"]

        keys = {k["AttributeName"]: k["KeyType"] for k in description["KeySchema"]}
        expected = {table.partition_key.name: "HASH"}
        if table.sort_key:
            expected[table.sort_key.name] = "RANGE"
        assert keys == expected, table.id
        indexes = {
            index["IndexName"]: [k["AttributeName"] for k in index["KeySchema"]]
            for index in description.get("GlobalSecondaryIndexes", [])
        }
        assert indexes == {
            index.name: [k.name for k in (index.partition_key, index.sort_key) if k]
            for index in table.indexes
        }, table.id


def test_buckets_have_the_object_lock_and_versioning_of_the_spec(aws: Aws) -> None:
    for bucket in spec.BUCKETS:
        versioning = aws.s3.get_bucket_versioning(Bucket=bucket.local_name)
        assert (versioning.get("Status") == "Enabled") == bucket.versioned, bucket.id
        if bucket.object_lock:
            lock = aws.s3.get_object_lock_configuration(Bucket=bucket.local_name)
            assert lock["ObjectLockConfiguration"]["ObjectLockEnabled"] == "Enabled"


def test_functions_get_the_handler_and_environment_of_the_spec(aws: Aws) -> None:
    for function in spec.FUNCTIONS:
        configuration = aws.lambda_.get_function_configuration(FunctionName=function.local_name)
        assert configuration["Handler"] == function.handler
        assert configuration["Architectures"] == ["arm64"]
        variables = configuration["Environment"]["Variables"]
        for table in spec.TABLES:
            assert variables[table.env_var] == table.local_name
        for bucket in spec.BUCKETS:
            assert variables[bucket.env_var] == bucket.local_name


def test_the_state_machine_runs_the_definition_file_with_local_function_arns(aws: Aws) -> None:
    import json

    described = aws.stepfunctions.describe_state_machine(stateMachineArn=aws.stack.invoice_run_arn)
    definition = json.loads(described["definition"])

    expected = json.loads(spec.INVOICE_RUN.definition(aws.stack.function_arns))
    assert definition == expected
    assert "${" not in described["definition"]
