"""S3 announces new objects under a prefix on a queue (feed files, bank statements).

A bucket has one notification configuration, so all of a bucket's notices from spec are set at
once, on the bucket resource itself: CDK's helper would add a custom-resource function. S3
checks that it may send when the configuration is set, so the bucket waits for each queue's
policy; the policy names the account, not the bucket, which would make a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import spec


class BucketNotifications(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        buckets: Mapping[str, s3.Bucket],
        queues: Mapping[str, sqs.IQueue],
    ) -> None:
        super().__init__(scope, construct_id)
        self.policies = {
            queue_id: self._policy(queue_id, queues[queue_id])
            for queue_id in dict.fromkeys(n.queue_id for n in spec.NOTIFICATIONS)
        }
        for bucket_id in dict.fromkeys(n.bucket_id for n in spec.NOTIFICATIONS):
            notices = [n for n in spec.NOTIFICATIONS if n.bucket_id == bucket_id]
            self._configure(buckets[bucket_id], notices, queues)

    def _policy(self, queue_id: str, queue: sqs.IQueue) -> sqs.QueuePolicy:
        policy = sqs.QueuePolicy(self, queue_id + "Notifications", queues=[queue])
        policy.document.add_statements(
            iam.PolicyStatement(
                actions=["sqs:SendMessage"],
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                resources=[queue.queue_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        return policy

    def _configure(
        self,
        bucket: s3.Bucket,
        notices: list[spec.NotificationSpec],
        queues: Mapping[str, sqs.IQueue],
    ) -> None:
        resource = bucket.node.default_child
        if not isinstance(resource, s3.CfnBucket):
            raise TypeError("the notifying bucket has no CfnBucket")
        resource.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            queue_configurations=[
                s3.CfnBucket.QueueConfigurationProperty(
                    event="s3:ObjectCreated:*",
                    queue=queues[notice.queue_id].queue_arn,
                    filter=s3.CfnBucket.NotificationFilterProperty(
                        s3_key=s3.CfnBucket.S3KeyFilterProperty(
                            rules=[
                                s3.CfnBucket.FilterRuleProperty(name="prefix", value=notice.prefix)
                            ]
                        )
                    ),
                )
                for notice in notices
            ]
        )
        for notice in notices:
            policy = self.policies[notice.queue_id].node.default_child
            resource.add_dependency(policy)  # type: ignore[arg-type]
