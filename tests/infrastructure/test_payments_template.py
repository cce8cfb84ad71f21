"""The statement import in the template: S3 notices of both prefixes reach their queues."""

from __future__ import annotations

import pytest

from infra import spec
from tests.infrastructure.conftest import Synthesized

pytestmark = pytest.mark.xdist_group("cdk")


def _queue_logical_id(synthesized: Synthesized, queue_id: str) -> str:
    resource = synthesized.stack.queues.by_id[queue_id].node.default_child
    return str(synthesized.stack.get_logical_id(resource))  # type: ignore[arg-type]


def test_the_work_bucket_announces_feed_and_statement_files_on_their_queues(
    synthesized: Synthesized,
) -> None:
    bucket = synthesized.template["Resources"][synthesized.output_ref("WorkBucketName")]
    configurations = bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"]

    announced = {
        (
            configuration["Filter"]["S3Key"]["Rules"][0]["Value"],
            configuration["Queue"]["Fn::GetAtt"][0],
        )
        for configuration in configurations
    }
    assert announced == {
        (notice.prefix, _queue_logical_id(synthesized, notice.queue_id))
        for notice in spec.NOTIFICATIONS
    }
    assert {c["Event"] for c in configurations} == {"s3:ObjectCreated:*"}


@pytest.mark.parametrize("queue_id", sorted({n.queue_id for n in spec.NOTIFICATIONS}))
def test_s3_may_send_to_each_notified_queue_from_this_account_only(
    synthesized: Synthesized, queue_id: str
) -> None:
    logical = _queue_logical_id(synthesized, queue_id)
    allowed = [
        statement
        for policy in synthesized.resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": logical} in policy["Properties"]["Queues"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Principal") == {"Service": "s3.amazonaws.com"}
    ]

    (statement,) = allowed
    assert statement["Action"] == "sqs:SendMessage"
    assert "aws:SourceAccount" in statement["Condition"]["StringEquals"]


def test_the_import_reads_one_file_per_invocation() -> None:
    (source,) = [s for s in spec.EVENT_SOURCES if s.function_id == spec.PAYMENT_IMPORT.id]

    assert (source.queue_id, source.batch_size) == (spec.STATEMENTS_QUEUE.id, 1)
    assert (
        spec.STATEMENTS_QUEUE.visibility_timeout_seconds > 6 * spec.PAYMENT_IMPORT.timeout_seconds
    )
