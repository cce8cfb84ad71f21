"""What the synthesized template promises about safety, observability and access."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from infra import spec
from tests.infrastructure.conftest import CDK_DEPLOYMENT_PROVIDER, Synthesized

pytestmark = pytest.mark.xdist_group("cdk")


@pytest.fixture(scope="module")
def template(synthesized: Synthesized) -> Template:
    return Template.from_json(synthesized.template)


def statements(synthesized: Synthesized, role_logical_id: str) -> list[dict[str, Any]]:
    """Every policy statement attached to the role, from all its policies."""
    return [
        statement
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def actions_of(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def function_logical_id(synthesized: Synthesized, handler: str) -> str:
    functions = synthesized.billing_functions().items()
    (logical_id,) = [key for key, fn in functions if fn["Properties"]["Handler"] == handler]
    return logical_id


def role_of_function(synthesized: Synthesized, handler: str) -> str:
    function = synthesized.template["Resources"][function_logical_id(synthesized, handler)]
    role: str = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return role


def test_every_table_has_pitr_encryption_and_on_demand_billing(template: Template) -> None:
    template.all_resources_properties(
        "AWS::DynamoDB::Table",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
            "DeletionProtectionEnabled": True,
        },
    )
    template.all_resources("AWS::DynamoDB::Table", {"DeletionPolicy": "Retain"})


def test_every_bucket_is_private_encrypted_and_kept(template: Template) -> None:
    template.all_resources_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
        },
    )
    template.all_resources("AWS::S3::Bucket", {"DeletionPolicy": "Retain"})


def test_every_bucket_denies_plain_http(synthesized: Synthesized) -> None:
    buckets = set(synthesized.resources("AWS::S3::Bucket"))
    denied = {
        policy["Properties"]["Bucket"]["Ref"]
        for policy in synthesized.resources("AWS::S3::BucketPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    }

    assert denied == buckets


def test_archive_bucket_locks_objects_without_default_retention(synthesized: Synthesized) -> None:
    archive = synthesized.output_ref(spec.ARCHIVE.id + "BucketName")
    properties = synthesized.template["Resources"][archive]["Properties"]

    assert properties["ObjectLockEnabled"] is True
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "ObjectLockConfiguration" not in properties
    assert properties["LoggingConfiguration"]["DestinationBucketName"]["Ref"] != archive


def test_work_bucket_expires_run_manifests_and_statement_parts(synthesized: Synthesized) -> None:
    work = synthesized.output_ref(spec.WORK.id + "BucketName")
    rules = synthesized.template["Resources"][work]["Properties"]["LifecycleConfiguration"]
    expiring = {
        rule["Prefix"]: rule["ExpirationInDays"]
        for rule in rules["Rules"]
        if "Prefix" in rule and rule["Status"] == "Enabled"
    }

    assert expiring == {"manifests/": 35, "statement-parts/": 7}


def test_data_buckets_log_access_to_the_log_bucket(synthesized: Synthesized) -> None:
    log_bucket = synthesized.stack.resolve(synthesized.stack.buckets.access_logs.bucket_name)
    for bucket in spec.BUCKETS:
        logical_id = synthesized.output_ref(bucket.id + "BucketName")
        logging = synthesized.template["Resources"][logical_id]["Properties"][
            "LoggingConfiguration"
        ]
        assert logging["DestinationBucketName"] == log_bucket


def test_functions_run_arm64_python312_traced_with_bounded_logs(synthesized: Synthesized) -> None:
    expected = {
        "Architectures": ["arm64"],
        "Runtime": "python3.12",
        "TracingConfig": {"Mode": "Active"},
        "Layers": [{"Ref": Match.any_value()}],
        "LoggingConfig": {"LogGroup": {"Ref": Match.any_value()}},
    }
    functions = synthesized.billing_functions()
    assert len(functions) == len(spec.FUNCTIONS)
    for function in functions.values():
        assert not Match.object_like(expected).test(function["Properties"]).has_failed()
    log_groups = synthesized.resources("AWS::Logs::LogGroup")
    for function in synthesized.billing_functions().values():
        log_group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert log_groups[log_group]["Properties"]["RetentionInDays"] <= 90


def test_dependency_layer_is_built_for_the_functions(template: Template) -> None:
    template.resource_properties_count_is(
        "AWS::Lambda::LayerVersion",
        {"CompatibleArchitectures": ["arm64"], "CompatibleRuntimes": ["python3.12"]},
        1,
    )


def test_bundling_is_skipped_when_the_context_says_so(synthesized: Synthesized) -> None:
    assert synthesized.bundling_calls == 0


@pytest.mark.parametrize("machine", spec.STATE_MACHINES, ids=lambda machine: machine.id)
def test_state_machine_is_standard_logged_and_traced(
    synthesized: Synthesized, machine: spec.StateMachineSpec
) -> None:
    state_machine_id = synthesized.output_ref(machine.id + "StateMachineArn")
    properties = synthesized.template["Resources"][state_machine_id]["Properties"]
    logging = properties["LoggingConfiguration"]
    log_group = logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"]

    assert properties["StateMachineType"] == "STANDARD"
    assert properties["TracingConfiguration"] == {"Enabled": True}
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is False
    assert log_group[0] in synthesized.resources("AWS::Logs::LogGroup")


@pytest.mark.parametrize("machine", spec.STATE_MACHINES, ids=lambda machine: machine.id)
def test_state_machine_role_invokes_its_functions_and_runs_its_children(
    synthesized: Synthesized, machine: spec.StateMachineSpec
) -> None:
    state_machine_id = synthesized.output_ref(machine.id + "StateMachineArn")
    state_machine = synthesized.template["Resources"][state_machine_id]
    role = state_machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    granted = statements(synthesized, role)
    by_action = {action: statement for statement in granted for action in actions_of(statement)}
    run_functions = set(machine.function_substitutions.values())
    function_ids = {
        function_logical_id(synthesized, function.handler)
        for function in spec.FUNCTIONS
        if function.id in run_functions
    }

    invoked = {arn["Fn::GetAtt"][0] for arn in by_action["lambda:InvokeFunction"]["Resource"]}
    assert invoked == function_ids
    assert by_action["states:StartExecution"]["Resource"] == {"Ref": state_machine_id}
    assert by_action["states:DescribeExecution"] is by_action["states:StopExecution"]
    assert "s3:GetObject" in by_action
    assert "s3:PutObject" not in by_action


def test_worker_may_set_object_lock_retention_on_the_archive(synthesized: Synthesized) -> None:
    granted = statements(synthesized, role_of_function(synthesized, spec.INVOICE_WORKER.handler))

    actions = {action for statement in granted for action in actions_of(statement)}
    assert {"s3:PutObject", "s3:PutObjectRetention"} <= actions


def test_archive_api_only_reads(synthesized: Synthesized) -> None:
    granted = statements(synthesized, role_of_function(synthesized, spec.ARCHIVE_API.handler))

    actions = {action for statement in granted for action in actions_of(statement)}
    writes = {"s3:PutObject", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    assert not actions & writes
    assert {"s3:GetObject", "dynamodb:Query"} <= actions


def test_only_dunning_and_the_import_put_events_and_only_on_the_provisioning_bus(
    synthesized: Synthesized,
) -> None:
    bus_id = synthesized.output_ref(spec.PROVISIONING_BUS.id + "BusName")
    putting = {
        role: statement
        for role_id in synthesized.resources("AWS::IAM::Role")
        for statement in statements(synthesized, role_id)
        if "events:PutEvents" in actions_of(statement)
        for role in [role_id]
    }

    assert set(putting) == {
        role_of_function(synthesized, spec.DUNNING_WORKER.handler),
        role_of_function(synthesized, spec.PAYMENT_IMPORT.handler),
        role_of_function(synthesized, spec.PAYMENT_IMPORT_WORKER.handler),
        role_of_function(synthesized, spec.PAYMENT_IMPORT_FINALIZE.handler),
    }
    for statement in putting.values():
        assert statement["Resource"] == {"Fn::GetAtt": [bus_id, "Arn"]}


def test_no_policy_uses_action_wildcards(synthesized: Synthesized) -> None:
    """But the CDK's own BucketDeployment provider's (see test_portal_template)."""
    for logical_id, policy in synthesized.resources("AWS::IAM::Policy").items():
        if logical_id.startswith(CDK_DEPLOYMENT_PROVIDER):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert not any(action.endswith("*") for action in actions_of(statement))


def test_alarms_watch_the_run_and_every_function(synthesized: Synthesized) -> None:
    alarms = [
        alarm["Properties"] for alarm in synthesized.resources("AWS::CloudWatch::Alarm").values()
    ]
    topics = synthesized.resources("AWS::SNS::Topic")
    watched = {(alarm["Namespace"], alarm["MetricName"]) for alarm in alarms}
    function_alarms = [alarm for alarm in alarms if alarm["Namespace"] == "AWS/Lambda"]

    assert {("AWS/States", "ExecutionsFailed"), ("AWS/States", "ExecutionsTimedOut")} <= watched
    assert len(function_alarms) == len(spec.FUNCTIONS)
    for alarm in alarms:
        (action,) = alarm["AlarmActions"]
        assert action["Ref"] in topics
    for topic in topics.values():
        assert "KmsMasterKeyId" in topic["Properties"]


@pytest.mark.parametrize("worker", [spec.INVOICE_WORKER, spec.DUNNING_WORKER], ids=lambda w: w.id)
def test_failed_async_worker_invocations_reach_an_encrypted_queue(
    synthesized: Synthesized, worker: spec.FunctionSpec
) -> None:
    worker_id = function_logical_id(synthesized, worker.handler)
    (config,) = [
        config
        for config in synthesized.resources("AWS::Lambda::EventInvokeConfig").values()
        if config["Properties"]["FunctionName"] == {"Ref": worker_id}
    ]
    properties = config["Properties"]
    queue_id = properties["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    queue = synthesized.template["Resources"][queue_id]["Properties"]
    ssl_only = [
        statement
        for policy in synthesized.resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in policy["Properties"]["Queues"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]

    assert queue["SqsManagedSseEnabled"] is True
    assert ssl_only


@pytest.mark.parametrize("api", ["archive", "orders"])
def test_every_route_needs_the_jwt_of_its_api(synthesized: Synthesized, api: str) -> None:
    auth = spec.API_AUTH[api]
    ((authorizer_id, authorizer),) = [
        (key, resource)
        for key, resource in synthesized.resources("AWS::ApiGatewayV2::Authorizer").items()
        if resource["Properties"]["JwtConfiguration"]["Audience"] == [auth.audience]
    ]
    routes = [
        route
        for route in synthesized.resources("AWS::ApiGatewayV2::Route").values()
        if route["Properties"]["ApiId"] == authorizer["Properties"]["ApiId"]
    ]

    public = {
        route.method + " " + route.path
        for route in spec.ROUTES
        if route.api == api and not route.authorized
    }
    assert {route["Properties"]["RouteKey"] for route in routes} == {
        route.method + " " + route.path for route in spec.ROUTES if route.api == api
    }
    for route in routes:
        if route["Properties"]["RouteKey"] in public:
            assert route["Properties"]["AuthorizationType"] == "NONE"
            assert "AuthorizerId" not in route["Properties"]
            continue
        assert route["Properties"]["AuthorizationType"] == "JWT"
        assert route["Properties"]["AuthorizerId"] == {"Ref": authorizer_id}
        assert route["Properties"].get("AuthorizationScopes", []) == list(auth.scopes)
    assert authorizer["Properties"]["AuthorizerType"] == "JWT"


def test_only_the_openapi_document_is_public():
    assert [route.path for route in spec.ROUTES if not route.authorized] == ["/openapi.json"]


def test_api_uses_lambda_proxy_payload_v2(template: Template) -> None:
    template.all_resources_properties(
        "AWS::ApiGatewayV2::Integration",
        {"IntegrationType": "AWS_PROXY", "PayloadFormatVersion": "2.0"},
    )


def test_api_stage_logs_access_and_throttles(template: Template) -> None:
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AccessLogSettings": {"DestinationArn": Match.any_value(), "Format": Match.any_value()},
            "DefaultRouteSettings": {
                "ThrottlingRateLimit": Match.any_value(),
                "ThrottlingBurstLimit": Match.any_value(),
            },
        },
    )


def test_outputs_name_what_the_cli_needs(synthesized: Synthesized) -> None:
    outputs = synthesized.template["Outputs"]
    described = {output.get("Description") for output in outputs.values()}

    assert {table.env_var for table in spec.TABLES} <= described
    assert {bucket.env_var for bucket in spec.BUCKETS} <= described
    assert {machine.env_var for machine in spec.STATE_MACHINES} <= described
    assert {bus.env_var for bus in spec.EVENT_BUSES} <= described
    assert "BILLING_SHARD_COUNT" in described
    assert "ArchiveApiUrl" in outputs


def test_the_statement_import_starts_and_reads_only_its_own_executions(
    synthesized: Synthesized,
) -> None:
    role = role_of_function(synthesized, spec.PAYMENT_IMPORT.handler)
    machine = synthesized.output_ref(spec.PAYMENT_IMPORT_RUN.id + "StateMachineArn")
    by_action = {a: s for s in statements(synthesized, role) for a in actions_of(s)}

    assert by_action["states:StartExecution"]["Resource"] == {"Ref": machine}
    described = json.dumps(by_action["states:DescribeExecution"]["Resource"])
    assert machine in described
    assert ":statement-*" in described
