"""The DynamoDB tables, exactly as spec.TABLES describes them."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra import spec

ATTRIBUTE_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}


def attribute(key: spec.Key) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=ATTRIBUTE_TYPES[key.type])


def optional_attribute(key: spec.Key | None) -> dynamodb.Attribute | None:
    return None if key is None else attribute(key)


class Tables(Construct):
    """On-demand tables with point-in-time recovery, kept when the stack goes."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.by_id = {table.id: self._table(table) for table in spec.TABLES}

    def _table(self, table_spec: spec.TableSpec) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            table_spec.id,
            partition_key=attribute(table_spec.partition_key),
            sort_key=optional_attribute(table_spec.sort_key),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=table_spec.ttl_attribute,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index in table_spec.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=attribute(index.partition_key),
                sort_key=optional_attribute(index.sort_key),
                projection_type=(
                    dynamodb.ProjectionType.INCLUDE
                    if index.attributes
                    else dynamodb.ProjectionType.KEYS_ONLY
                ),
                non_key_attributes=list(index.attributes) or None,
            )
        return table
