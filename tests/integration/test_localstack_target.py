"""The parts of the stack that LocalStack can run on a machine without Docker.

These run under `make test-localstack` against the LocalStack at AWS_ENDPOINT_URL. LocalStack's
open-source core cannot run DynamoDB or Lambda without Docker and downloads (see the README), so
what needs them is skipped there with that reason.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from shared.storage.s3 import S3Archive, S3WorkStore

pytestmark = pytest.mark.localstack


@pytest.fixture
def s3() -> Any:
    if os.environ.get("BILLING_TEST_TARGET") != "localstack":
        pytest.skip("runs only under `make test-localstack`, against a running LocalStack")
    return boto3.client(
        "s3",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
        region_name="eu-central-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def _bucket(s3: Any, *, object_lock: bool) -> str:
    name = f"billing-test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(
        Bucket=name,
        CreateBucketConfiguration={"LocationConstraint": "eu-central-1"},
        ObjectLockEnabledForBucket=object_lock,
    )
    return name


def test_the_archive_stores_a_document_once_under_compliance_retention(s3: Any) -> None:
    bucket = _bucket(s3, object_lock=True)
    archive = S3Archive(s3, bucket)
    until = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)

    first = archive.store_pdf("documents/x/C1/RE-1.pdf", b"%PDF-1", retain_until=until)
    second = archive.store_pdf("documents/x/C1/RE-1.pdf", b"%PDF-2", retain_until=until)

    assert (first, second) == (True, False)
    assert archive.read("documents/x/C1/RE-1.pdf") == b"%PDF-1"
    head = s3.head_object(Bucket=bucket, Key="documents/x/C1/RE-1.pdf", ChecksumMode="ENABLED")
    assert (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"]) == ("COMPLIANCE", until)
    assert "ChecksumSHA256" in head


def test_a_locked_document_version_cannot_be_deleted(s3: Any) -> None:
    bucket = _bucket(s3, object_lock=True)
    until = datetime.now(UTC) + timedelta(days=2)
    S3Archive(s3, bucket).store_pdf("documents/k.pdf", b"%PDF", retain_until=until)
    version = s3.list_object_versions(Bucket=bucket)["Versions"][0]["VersionId"]

    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=bucket, Key="documents/k.pdf", VersionId=version)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_the_work_store_round_trips_a_manifest(s3: Any) -> None:
    work = S3WorkStore(s3, _bucket(s3, object_lock=False))

    work.write_json("runs/r/manifest.json", [{"shard": 0}, {"shard": 1}])

    assert work.read_json("runs/r/manifest.json") == [{"shard": 0}, {"shard": 1}]
