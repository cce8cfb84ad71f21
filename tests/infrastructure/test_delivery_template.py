"""What the template promises about the paced sender: pacing, retries, alarms, least privilege."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from infra import spec
from infra.app import build_app
from infra.bundling import CopyCode, PipInstallLayer
from infra.stack import BillingStack
from tests.infrastructure.conftest import CDK_DEPLOYMENT_PROVIDER, Synthesized
from tests.infrastructure.test_template import (
    actions_of,
    function_logical_id,
    role_of_function,
    statements,
)

pytestmark = pytest.mark.xdist_group("cdk")

MAIL_FROM = spec.default_settings()["BILLING_MAIL_FROM"]


def logical_id(synthesized: Synthesized, construct: Any) -> str:
    return str(synthesized.stack.get_logical_id(construct.node.default_child))


def queue_id(synthesized: Synthesized, queue: spec.QueueSpec) -> str:
    return logical_id(synthesized, synthesized.stack.queues.by_id[queue.id])


def granted_actions(synthesized: Synthesized, handler: str) -> dict[str, list[Any]]:
    """Action -> the resources of every statement that grants it to the function's role."""
    granted: dict[str, list[Any]] = {}
    for statement in statements(synthesized, role_of_function(synthesized, handler)):
        resources = statement["Resource"]
        for action in actions_of(statement):
            granted.setdefault(action, []).extend(
                resources if isinstance(resources, list) else [resources]
            )
    return granted


def identity_of(resource: dict[str, Any]) -> str:
    """The identity name at the end of an SES identity ARN built with Fn::Join."""
    parts = resource["Fn::Join"][1]
    last = parts[-1]
    assert isinstance(last, str)
    assert last.startswith(":identity/")
    return last.removeprefix(":identity/")


def test_visibility_timeout_covers_six_function_timeouts() -> None:
    for source in spec.EVENT_SOURCES:
        queue = next(queue for queue in spec.QUEUES if queue.id == source.queue_id)
        function = next(fn for fn in spec.FUNCTIONS if fn.id == source.function_id)
        assert queue.visibility_timeout_seconds > 6 * function.timeout_seconds


def test_delivery_queues_are_encrypted_and_deny_plain_http(synthesized: Synthesized) -> None:
    for queue in (spec.DELIVERY_QUEUE, spec.DELIVERY_DEAD_LETTERS):
        logical = queue_id(synthesized, queue)
        properties = synthesized.template["Resources"][logical]["Properties"]
        denies = [
            statement
            for policy in synthesized.resources("AWS::SQS::QueuePolicy").values()
            if {"Ref": logical} in policy["Properties"]["Queues"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement["Effect"] == "Deny"
            and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert properties["SqsManagedSseEnabled"] is True, queue.id
        assert denies, queue.id


def test_sender_is_paced_by_reserved_and_event_source_concurrency(
    synthesized: Synthesized,
) -> None:
    function = function_logical_id(synthesized, spec.INVOICE_DELIVERY.handler)
    properties = synthesized.template["Resources"][function]["Properties"]
    (mapping,) = [
        resource
        for resource in synthesized.resources("AWS::Lambda::EventSourceMapping").values()
        if resource["Properties"]["FunctionName"] == {"Ref": function}
    ]

    assert properties["ReservedConcurrentExecutions"] == spec.DELIVERY_CONCURRENCY
    assert mapping["Properties"]["ScalingConfig"] == {
        "MaximumConcurrency": spec.DELIVERY_CONCURRENCY
    }
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_sender_sends_as_the_mail_identity_and_touches_only_its_items(
    synthesized: Synthesized,
) -> None:
    granted = granted_actions(synthesized, spec.INVOICE_DELIVERY.handler)
    documents = logical_id(synthesized, synthesized.stack.tables.by_id[spec.DOCUMENTS.id])
    archive = logical_id(synthesized, synthesized.stack.buckets.by_id[spec.ARCHIVE.id])

    identities = {identity_of(resource) for resource in granted["ses:SendEmail"]}
    assert identities == {MAIL_FROM, MAIL_FROM.rpartition("@")[2]}
    assert "ses:SendRawEmail" not in granted
    assert granted["dynamodb:PutItem"] == [{"Fn::GetAtt": [documents, "Arn"]}]
    assert granted["dynamodb:GetItem"] == [{"Fn::GetAtt": [documents, "Arn"]}]
    forbidden = {
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "s3:PutObject",
        "sqs:SendMessage",
    }
    assert not forbidden & set(granted)
    assert {"Fn::Join": ["", [{"Fn::GetAtt": [archive, "Arn"]}, "/*"]]} in granted["s3:GetObject"]


def test_sender_consumes_the_delivery_queue(synthesized: Synthesized) -> None:
    granted = granted_actions(synthesized, spec.INVOICE_DELIVERY.handler)
    queue = {"Fn::GetAtt": [queue_id(synthesized, spec.DELIVERY_QUEUE), "Arn"]}

    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"):
        assert granted[action] == [queue], action


def test_worker_may_announce_on_the_delivery_queue(synthesized: Synthesized) -> None:
    granted = granted_actions(synthesized, spec.INVOICE_WORKER.handler)
    delivery = {"Fn::GetAtt": [queue_id(synthesized, spec.DELIVERY_QUEUE), "Arn"]}
    dead_letters = {"Fn::GetAtt": [queue_id(synthesized, spec.DELIVERY_DEAD_LETTERS), "Arn"]}

    assert delivery in granted["sqs:SendMessage"]
    assert dead_letters not in granted["sqs:SendMessage"]
    assert "sqs:ReceiveMessage" not in granted


def test_finalize_may_read_the_archive_for_the_print_batch(synthesized: Synthesized) -> None:
    granted = granted_actions(synthesized, spec.INVOICE_FINALIZE.handler)
    archive = logical_id(synthesized, synthesized.stack.buckets.by_id[spec.ARCHIVE.id])

    assert {"Fn::Join": ["", [{"Fn::GetAtt": [archive, "Arn"]}, "/*"]]} in granted["s3:GetObject"]


def test_an_alarm_watches_the_delivery_dead_letters(synthesized: Synthesized) -> None:
    dead_letters = queue_id(synthesized, spec.DELIVERY_DEAD_LETTERS)
    watching = [
        alarm["Properties"]
        for alarm in synthesized.resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Dimensions")
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dead_letters, "QueueName"]}}]
    ]

    (alarm,) = watching
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Threshold"] == 1


def test_outputs_name_the_delivery_queue(synthesized: Synthesized) -> None:
    described = {output.get("Description") for output in synthesized.template["Outputs"].values()}

    assert spec.DELIVERY_QUEUE.env_var in described


@pytest.fixture(scope="module")
def overridden(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A second synthesis with the mail identity and the pacing taken from context."""
    outdir = tmp_path_factory.mktemp("cdk.out.context")
    context = {
        "aws:cdk:bundling-stacks": [],
        "billing:mailFrom": "invoices@mail.example.net",
        "billing:deliveryConcurrency": "12",
    }
    with (
        mock.patch.object(CopyCode, "try_bundle", autospec=True, return_value=True),
        mock.patch.object(PipInstallLayer, "try_bundle", autospec=True, return_value=True),
    ):
        app = build_app(context=context, outdir=str(outdir))
        stack = next(child for child in app.node.children if isinstance(child, BillingStack))
        app.synth()
    template: dict[str, Any] = json.loads(Path(outdir, stack.template_file).read_text())
    return template


def test_context_sets_the_mail_identity_and_the_pacing(overridden: dict[str, Any]) -> None:
    resources = overridden["Resources"].values()
    functions = [
        resource["Properties"]
        for logical_id, resource in overridden["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
        and not logical_id.startswith(CDK_DEPLOYMENT_PROVIDER)
    ]
    (sender,) = [fn for fn in functions if fn["Handler"] == spec.INVOICE_DELIVERY.handler]
    mappings = [r for r in resources if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    others = {
        source.maximum_concurrency
        for source in spec.EVENT_SOURCES
        if source.function_id != spec.INVOICE_DELIVERY.id
    }
    (mapping,) = [
        r for r in mappings if r["Properties"]["ScalingConfig"]["MaximumConcurrency"] not in others
    ]
    send_statements = [
        statement
        for r in resources
        if r["Type"] == "AWS::IAM::Policy"
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
        if "ses:SendEmail" in actions_of(statement)
    ]

    assert {fn["Environment"]["Variables"]["BILLING_MAIL_FROM"] for fn in functions} == {
        "invoices@mail.example.net"
    }
    assert sender["ReservedConcurrentExecutions"] == 12
    assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 12}
    (statement,) = send_statements
    assert {identity_of(resource) for resource in statement["Resource"]} == {
        "invoices@mail.example.net",
        "mail.example.net",
    }


def test_a_delivery_concurrency_lambda_cannot_honour_is_refused() -> None:
    from infra.constructs.delivery import check_concurrency

    with pytest.raises(ValueError, match="billing:deliveryConcurrency"):
        check_concurrency(1)
