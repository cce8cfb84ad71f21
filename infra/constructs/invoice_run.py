"""A run: its three functions and the Distributed Map state machine that drives them.

The invoice run and the dunning run are built alike, each from its StateMachineSpec."""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import spec
from infra.constructs.function import LOG_RETENTION, BillingFunction
from infra.constructs.nag import acknowledge, logical_id
from shared.invoicing.run import MANIFEST_PREFIX

FunctionFactory = Callable[[Construct, spec.FunctionSpec], BillingFunction]


class InvoiceRun(Construct):
    """A run's state machine (the invoice run unless ``machine`` names another).

    Execution logs carry every event but no execution data: inputs and outputs hold customer
    data, and the functions log what an operator needs. Children of the Distributed Map are
    Standard executions of this same state machine, so its role may start, describe and stop them.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        new_function: FunctionFactory,
        work_bucket: s3.IBucket,
        machine: spec.StateMachineSpec = spec.INVOICE_RUN,
        worker: spec.FunctionSpec = spec.INVOICE_WORKER,
    ) -> None:
        super().__init__(scope, construct_id)
        self.machine = machine
        self.functions = {
            function_spec.id: new_function(self, function_spec)
            for function_spec in run_functions(machine)
        }
        self.log_group = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=vended_log_group_name(Stack.of(self).stack_name, machine.id),
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
        self.state_machine = self._state_machine()
        self._grant_invoke()
        self._grant_manifests(work_bucket)
        self._grant_child_executions()
        self.dead_letters = self._worker_dead_letters(worker)

    def _state_machine(self) -> sfn.StateMachine:
        run = self.machine
        state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=definition_body(run),
            definition_substitutions={
                placeholder: self.functions[function_id].function.function_arn
                for placeholder, function_id in run.function_substitutions.items()
            },
            state_machine_type=sfn.StateMachineType.STANDARD,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False
            ),
            tracing_enabled=True,
            role=self.role,
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "log delivery and X-Ray actions of Step Functions take no resource-level permissions",
        )
        return state_machine

    def _grant_invoke(self) -> None:
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[fn.function.function_arn for fn in self.functions.values()],
            )
        )

    def _grant_manifests(self, work_bucket: s3.IBucket) -> None:
        manifests = work_bucket.arn_for_objects(MANIFEST_PREFIX + "*")
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[manifests])
        )
        acknowledge(
            self.role,
            f"AwsSolutions-IAM5[Resource::<{logical_id(work_bucket)}.Arn>/{MANIFEST_PREFIX}*]",
            "the Distributed Map reads the manifest of each run, whose key holds the run id",
        )

    def _grant_child_executions(self) -> None:
        """A separate policy, so that the state machine need not wait for a policy naming it."""
        stack = Stack.of(self)
        executions = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=self.state_machine.state_machine_name + "/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        policy = iam.Policy(
            self,
            "ChildExecutions",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    actions=["states:StartExecution"],
                    resources=[self.state_machine.state_machine_arn],
                ),
                iam.PolicyStatement(
                    actions=["states:DescribeExecution", "states:StopExecution"],
                    resources=[executions],
                ),
            ],
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:"
            f"<AWS::AccountId>:execution:<{logical_id(self.state_machine)}.Name>/*]",
            "the Distributed Map watches and stops its child executions, whose names it makes up",
        )

    def _worker_dead_letters(self, worker_spec: spec.FunctionSpec) -> sqs.Queue:
        """Step Functions calls the worker synchronously, so this queue only catches invocations
        an operator makes asynchronously (re-billing one shard by hand) after their retries."""
        queue = sqs.Queue(
            self,
            "WorkerDeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            queue,
            "AwsSolutions-SQS3",
            "this queue is itself the dead-letter destination of the worker's async invocations",
        )
        worker = self.functions[worker_spec.id].function
        worker.configure_async_invoke(on_failure=destinations.SqsDestination(queue))
        return queue


def definition_body(state_machine: spec.StateMachineSpec) -> sfn.DefinitionBody:
    """The ASL file inlined into the template (DefinitionBody.from_file would upload it as an
    asset instead), so that cfn-lint checks the definition and the template alone shows it."""
    return sfn.DefinitionBody.from_string(state_machine.definition_file.read_text(encoding="utf-8"))


def vended_log_group_name(stack_name: str, machine_id: str = spec.INVOICE_RUN.id) -> str:
    """Under /aws/vendedlogs/, one CloudWatch Logs resource policy covers every log group that
    Step Functions writes to, so its size limit is never reached."""
    return "/aws/vendedlogs/states/" + stack_name + "-" + machine_id


def run_functions(machine: spec.StateMachineSpec) -> list[spec.FunctionSpec]:
    """The functions that the state machine's placeholders name, in spec order."""
    wanted = set(machine.function_substitutions.values())
    return [function_spec for function_spec in spec.FUNCTIONS if function_spec.id in wanted]
