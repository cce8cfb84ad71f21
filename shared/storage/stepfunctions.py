"""The Step Functions implementation of the invoice run's executions."""

from __future__ import annotations

import json
from typing import Any

from shared.invoicing.starter import Execution, ExecutionExistsError


class StepFunctionsExecutions:
    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self._client = client
        self._state_machine_arn = state_machine_arn

    def running(self, name_prefix: str) -> Execution | None:
        pages = self._client.get_paginator("list_executions").paginate(
            stateMachineArn=self._state_machine_arn, statusFilter="RUNNING"
        )
        for page in pages:
            for execution in page["executions"]:
                if execution["name"].startswith(name_prefix):
                    return Execution(execution["name"], execution["executionArn"])
        return None

    def start(self, name: str, payload: dict[str, Any]) -> Execution:
        try:
            response = self._client.start_execution(
                stateMachineArn=self._state_machine_arn, name=name, input=json.dumps(payload)
            )
        except self._client.exceptions.ExecutionAlreadyExists as error:
            raise ExecutionExistsError(name) from error
        return Execution(name, response["executionArn"])

    def named(self, name: str) -> Execution:
        prefix = self._state_machine_arn.replace(":stateMachine:", ":execution:")
        return Execution(name, f"{prefix}:{name}")

    def status(self, name: str) -> str:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED."""
        response = self._client.describe_execution(executionArn=self.named(name).arn)
        return str(response["status"])
