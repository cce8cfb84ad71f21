"""The EventBridge buses, exactly as spec.EVENT_BUSES describes them."""

from __future__ import annotations

from aws_cdk import aws_events as events
from constructs import Construct

from infra import spec


class EventBuses(Construct):
    """Custom buses other systems subscribe to with rules of their own."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.by_id: dict[str, events.EventBus] = {
            bus.id: events.EventBus(self, bus.id, description=bus.description)
            for bus in spec.EVENT_BUSES
        }
