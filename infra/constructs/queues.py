"""The SQS queues from spec.QUEUES: standard, encrypted, TLS only, each with its dead letters."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import spec


class Queues(Construct):
    """cdk-nag's rule that a queue have a dead-letter queue knows a queue that is one."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.by_id: dict[str, sqs.Queue] = {}
        for queue_spec in spec.QUEUES:
            self.by_id[queue_spec.id] = self._queue(queue_spec)

    def _queue(self, queue_spec: spec.QueueSpec) -> sqs.Queue:
        return sqs.Queue(
            self,
            queue_spec.id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(queue_spec.visibility_timeout_seconds),
            retention_period=Duration.days(queue_spec.retention_days),
            dead_letter_queue=self._dead_letters(queue_spec),
        )

    def _dead_letters(self, queue_spec: spec.QueueSpec) -> sqs.DeadLetterQueue | None:
        if queue_spec.dead_letter_queue is None:
            return None
        return sqs.DeadLetterQueue(
            queue=self.by_id[queue_spec.dead_letter_queue.id],
            max_receive_count=queue_spec.max_receive_count,
        )
