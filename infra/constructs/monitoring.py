"""Alarms on what fails silently otherwise, published to one encrypted SNS topic."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

PERIOD = Duration.minutes(5)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        state_machines: Mapping[str, sfn.IStateMachine],
        dead_letter_queues: Mapping[str, sqs.IQueue],
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = self._topic()
        self.action = actions.SnsAction(self.topic)
        for name, state_machine in state_machines.items():
            self._alarm(name + "ExecutionsFailed", state_machine.metric_failed(period=PERIOD))
            self._alarm(name + "ExecutionsTimedOut", state_machine.metric_timed_out(period=PERIOD))
        for name, function in functions.items():
            self._alarm(name + "Errors", function.metric_errors(period=PERIOD))
        for name, queue in dead_letter_queues.items():
            visible = queue.metric_approximate_number_of_messages_visible(period=PERIOD)
            self._alarm(name + "Messages", visible)

    def _topic(self) -> sns.Topic:
        """CloudWatch may publish to an encrypted topic only with a key that lets it in."""
        key = kms.Key(self, "AlarmKey", enable_key_rotation=True, description="billing alarms")
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        return sns.Topic(self, "Alarms", master_key=key, enforce_ssl=True, display_name="billing")

    def _alarm(self, construct_id: str, metric: cloudwatch.Metric) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self.action)
