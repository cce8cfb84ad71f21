"""Which objects an S3 notification on a queue names, and what is no notification."""

from __future__ import annotations

import json

import pytest

from shared.s3_notices import objects_named


def test_every_record_names_its_bucket_and_its_decoded_key() -> None:
    body = json.dumps(
        {
            "Records": [
                {
                    "s3": {
                        "bucket": {"name": "work"},
                        "object": {"key": "statements/Tag+1%C3%A4.xml"},
                    }
                },
                {"s3": {"bucket": {"name": "work"}, "object": {"key": "feeds/incoming/a.jsonl"}}},
            ]
        }
    )

    assert objects_named(body) == [
        ("work", "statements/Tag 1ä.xml"),
        ("work", "feeds/incoming/a.jsonl"),
    ]


def test_the_test_event_names_nothing() -> None:
    assert objects_named(json.dumps({"Event": "s3:TestEvent", "Bucket": "work"})) == []


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"order_id": "O-1"}', '"text"'])
def test_other_messages_are_no_notification(body: str) -> None:
    assert objects_named(body) is None
