"""The monthly schedule that starts the invoice run, and the small function it invokes."""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Duration, TimeZone
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import spec
from infra.constructs.function import BillingFunction
from infra.constructs.nag import acknowledge, logical_id

FunctionFactory = Callable[[Construct, spec.FunctionSpec], BillingFunction]


class RunSchedule(Construct):
    """The schedule invokes a function rather than the state machine, because only a function
    can name the execution after the run: a schedule delivered twice then starts one execution.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        new_function: FunctionFactory,
        state_machines: dict[str, sfn.IStateMachine],
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions: dict[str, BillingFunction] = {}
        self.schedules: dict[str, scheduler.Schedule] = {}
        for schedule_spec in spec.SCHEDULES:
            function_spec = next(fn for fn in spec.FUNCTIONS if fn.id == schedule_spec.function_id)
            function = new_function(self, function_spec)
            grant_starts(function, function_spec, state_machines)
            self.functions[function_spec.id] = function
            self.schedules[schedule_spec.id] = self._schedule(schedule_spec, function)

    def _schedule(
        self, schedule_spec: spec.ScheduleSpec, function: BillingFunction
    ) -> scheduler.Schedule:
        role = iam.Role(
            self,
            schedule_spec.id + "Role",
            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
            description="lets the schedule " + schedule_spec.local_name + " invoke its function",
        )
        schedule = scheduler.Schedule(
            self,
            schedule_spec.id,
            description=schedule_spec.description,
            schedule=scheduler.ScheduleExpression.expression(
                schedule_spec.expression, TimeZone.of(schedule_spec.timezone)
            ),
            target=targets.LambdaInvoke(
                function.function,
                input=scheduler.ScheduleTargetInput.from_object(
                    {"scheduled_time": scheduler.ContextAttribute.scheduled_time}
                ),
                retry_attempts=5,
                max_event_age=Duration.hours(6),
                role=role,
            ),
        )
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::<{logical_id(function.function)}.Arn>:*]",
            "the grant to invoke a function covers its versions and aliases, none of them public",
        )
        return schedule


def grant_starts(
    function: BillingFunction,
    function_spec: spec.FunctionSpec,
    state_machines: dict[str, sfn.IStateMachine],
) -> None:
    for machine_id in function_spec.starts_state_machines:
        machine = state_machines[machine_id]
        machine_spec = next(m for m in spec.STATE_MACHINES if m.id == machine_id)
        function.function.add_environment(machine_spec.env_var, machine.state_machine_arn)
        function.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["states:StartExecution", "states:ListExecutions"],
                resources=[machine.state_machine_arn],
            )
        )
