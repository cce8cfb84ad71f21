"""Acknowledging cdk-nag findings, always on the narrowest construct and with a reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from constructs import IConstruct

# The plugin's name, which cdk-nag's reports put before a rule id.
PACK = "AwsSolutions"


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one finding (a rule id, with its [finding] where cdk-nag names one)."""
    Validations.of(construct).acknowledge(Acknowledgment(id=PACK + "::" + rule, reason=reason))


def logical_id(construct: IConstruct) -> str:
    """The logical id of the construct's resource, as cdk-nag names it in a finding."""
    resource = construct.node.default_child
    if not isinstance(resource, CfnElement):
        raise TypeError(construct.node.path + " has no CloudFormation resource")
    return Stack.of(construct).get_logical_id(resource)
