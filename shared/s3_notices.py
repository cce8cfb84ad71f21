"""S3 event notifications as they reach a queue: which objects a message names."""

from __future__ import annotations

import json
from urllib.parse import unquote_plus


def objects_named(body: str) -> list[tuple[str, str]] | None:
    """(bucket, key) of each object an S3 notification names, keys decoded; an empty list for
    S3's test event; None when the body is no S3 notification at all."""
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    if message.get("Event") == "s3:TestEvent":
        return []
    if "Records" not in message:
        return None
    return [
        (notice["s3"]["bucket"]["name"], unquote_plus(notice["s3"]["object"]["key"]))
        for notice in message["Records"]
    ]
