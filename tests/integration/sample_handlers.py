"""A handler the Lambda runtime tests attach to queues and streams; it keeps what it received."""

from __future__ import annotations

import os
from typing import Any

received: list[dict[str, Any]] = []


def remember(event: dict[str, Any], context: Any) -> dict[str, Any]:
    received.append({"event": event, "marker": os.environ.get("SAMPLE_MARKER")})
    return {"batchItemFailures": []}
