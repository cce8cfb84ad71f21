"""Lambda's SQS poller, for the embedded AWS.

moto runs a queue's event source inside SendMessage itself: on the sending thread, one message
per invocation, and it ignores a handler's partial batch response. A worker that announces
invoices would run the sender nested inside its own invocation, and with a moto server the
nested invocation arrives on another thread and waits for the invocation lock the worker holds:
a deadlock. The embedded AWS therefore creates queue event sources disabled, and this poller does
what Lambda does with them: receive up to a batch, invoke the function with it, delete what the
function did not name as failed, and leave the failed messages to their visibility timeout (and
after ``maxReceiveCount`` receives to the dead-letter queue). It holds no lock while it waits.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from infra import spec
from localaws.provision import REGION, LocalStack, queue_arn

logger = logging.getLogger(__name__)


@dataclass
class PollResult:
    batches: int = 0
    messages: int = 0
    failed: int = 0


class QueuePoller:
    def __init__(self, clients: Callable[[str], Any], stack: LocalStack) -> None:
        self._sqs = clients("sqs")
        self._lambda = clients("lambda")
        self._stack = stack
        self._arns: dict[str, str] = {}

    def drain(self, on_batch: Callable[[int], None] | None = None) -> PollResult:
        """Deliver batches until no event source's queue has a visible message left."""
        result = PollResult()
        while True:
            before = result.messages
            for source in spec.EVENT_SOURCES:
                received, failed = self.poll_once(source)
                result.batches += int(received > 0)
                result.messages += received
                result.failed += failed
                if received and on_batch is not None:
                    on_batch(received)
            if result.messages == before:
                return result

    def poll_once(self, source: spec.EventSourceSpec) -> tuple[int, int]:
        """One batch of the source's queue to its function: (messages received, failed)."""
        queue_url = self._stack.queue_urls[source.queue_id]
        messages = self._sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=source.batch_size,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            return 0, 0

        event = sqs_event(messages, self._queue_arn(queue_url))
        failed = self._invoke(self._stack.function_arns[source.function_id], event, source)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(done)
                ],
            )
        return len(messages), len(failed)

    def _queue_arn(self, queue_url: str) -> str:
        if queue_url not in self._arns:
            self._arns[queue_url] = queue_arn(self._sqs, queue_url)
        return self._arns[queue_url]

    def backlog(self) -> int:
        """Messages waiting in the event sources' queues, visible or in flight."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        waiting = 0
        for source in spec.EVENT_SOURCES:
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=self._stack.queue_urls[source.queue_id], AttributeNames=names
            )["Attributes"]
            waiting += sum(int(attributes.get(name, 0)) for name in names)
        return waiting

    @contextlib.contextmanager
    def in_background(self, *, interval_seconds: float = 1.0) -> Iterator[None]:
        """Drain the queues every ``interval_seconds`` on a thread of its own, until exit."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(interval_seconds):
                try:
                    self.drain()
                except (BotoCoreError, ClientError):
                    logger.exception("polling the delivery queue failed; trying again")

        thread = threading.Thread(target=loop, name="sqs-poller", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=30)

    def _invoke(
        self, function_arn: str, event: dict[str, Any], source: spec.EventSourceSpec
    ) -> set[str]:
        """The ids of the messages the function failed: all of them when it raised."""
        response = self._lambda.invoke(FunctionName=function_arn, Payload=json.dumps(event))
        every = {record["messageId"] for record in event["Records"]}
        if response.get("FunctionError"):
            return every
        if not source.report_batch_item_failures:
            return set()
        answer = json.loads(response["Payload"].read() or b"{}") or {}
        failures = answer.get("batchItemFailures") or []
        return {str(failure["itemIdentifier"]) for failure in failures} & every


def sqs_event(messages: list[dict[str, Any]], source_arn: str) -> dict[str, Any]:
    """The event Lambda hands a function for a batch of SQS messages."""
    return {"Records": [_record(message, source_arn) for message in messages]}


def _record(message: dict[str, Any], source_arn: str) -> dict[str, Any]:
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            key: str(attributes[key])
            for key in (
                "ApproximateReceiveCount",
                "SentTimestamp",
                "SenderId",
                "ApproximateFirstReceiveTimestamp",
            )
            if key in attributes
        },
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": source_arn,
        "awsRegion": REGION,
    }
