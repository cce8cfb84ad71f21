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


def test_queues_have_the_visibility_and_dead_letters_of_the_spec(aws: Aws) -> None:
    import json

    sqs = aws.clients("sqs")
    for queue in spec.QUEUES:
        url = aws.stack.queue_urls[queue.id]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert int(attributes["VisibilityTimeout"]) == queue.visibility_timeout_seconds
        assert int(attributes["MessageRetentionPeriod"]) == queue.retention_days * 86400
        if queue.dead_letter_queue is None:
            assert "RedrivePolicy" not in attributes
            continue
        target = aws.stack.queue_urls[queue.dead_letter_queue.id]
        target_arn = sqs.get_queue_attributes(QueueUrl=target, AttributeNames=["QueueArn"])
        assert json.loads(attributes["RedrivePolicy"]) == {
            "deadLetterTargetArn": target_arn["Attributes"]["QueueArn"],
            "maxReceiveCount": queue.max_receive_count,
        }
        if queue.env_var:
            assert aws.stack.function_environment[queue.env_var] == url


def test_event_sources_and_pacing_follow_the_spec_and_the_sender_is_verified(aws: Aws) -> None:
    mappings = aws.lambda_.list_event_source_mappings()["EventSourceMappings"]
    by_function = {mapping["FunctionArn"]: mapping for mapping in mappings}

    assert len(mappings) == len(spec.EVENT_SOURCES)
    for source in spec.EVENT_SOURCES:
        mapping = by_function[aws.stack.function_arns[source.function_id]]
        assert mapping["BatchSize"] == source.batch_size
        assert mapping["EventSourceArn"].endswith(
            ":" + aws.stack.queue_urls[source.queue_id].rsplit("/", 1)[1]
        )
    for function in spec.FUNCTIONS:
        if function.reserved_concurrency is not None:
            reserved = aws.lambda_.get_function_concurrency(FunctionName=function.local_name)
            assert reserved["ReservedConcurrentExecutions"] == function.reserved_concurrency
    identities = aws.clients("sesv2").list_email_identities()["EmailIdentities"]
    mail_from = aws.stack.function_environment["BILLING_MAIL_FROM"]
    assert mail_from in {identity["IdentityName"] for identity in identities}
