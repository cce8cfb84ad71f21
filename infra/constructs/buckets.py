"""The S3 buckets from spec.BUCKETS, plus the bucket that receives their server access logs."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import spec
from shared.invoicing.run import MANIFEST_PREFIX
from shared.payments.import_run import PARTS_PREFIX

MANIFEST_EXPIRY = Duration.days(35)
# The parts of a statement imported in parts hold the statement's entries; the decisions and
# the file itself keep what is needed after the import.
STATEMENT_PARTS_EXPIRY = Duration.days(7)
ACCESS_LOG_EXPIRY = Duration.days(400)
INCOMPLETE_UPLOAD_EXPIRY = Duration.days(7)


def private_bucket(
    scope: Construct,
    construct_id: str,
    *,
    lifecycle_rules: Sequence[s3.LifecycleRule] = (),
    object_lock: bool = False,
    versioned: bool = False,
    access_logs: s3.IBucket | None = None,
) -> s3.Bucket:
    """A bucket with the hygiene all buckets here share: private, encrypted, TLS 1.2 only."""
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        object_lock_enabled=object_lock,
        versioned=versioned,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=construct_id.lower() + "/" if access_logs else None,
        lifecycle_rules=[abort_incomplete_uploads(), *lifecycle_rules],
        removal_policy=RemovalPolicy.RETAIN,
    )


def abort_incomplete_uploads() -> s3.LifecycleRule:
    return s3.LifecycleRule(
        id="abort-incomplete-uploads",
        abort_incomplete_multipart_upload_after=INCOMPLETE_UPLOAD_EXPIRY,
    )


class Buckets(Construct):
    """Object Lock is on for the archive without a default retention: every PUT sets its own
    COMPLIANCE retention, counted from the end of the document's year of issue.

    Run manifests (the shard lists a Distributed Map reads) expire; run reports are kept.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = self._access_log_bucket()
        self.by_id = {
            bucket.id: private_bucket(
                self,
                bucket.id,
                object_lock=bucket.object_lock,
                versioned=bucket.versioned,
                access_logs=self.access_logs,
                lifecycle_rules=_expire_manifests() if bucket is spec.WORK else (),
            )
            for bucket in spec.BUCKETS
        }

    def _access_log_bucket(self) -> s3.Bucket:
        return private_bucket(
            self,
            "AccessLogs",
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-access-logs", expiration=ACCESS_LOG_EXPIRY)
            ],
        )


def _expire_manifests() -> Sequence[s3.LifecycleRule]:
    return [
        s3.LifecycleRule(
            id="expire-run-manifests", prefix=MANIFEST_PREFIX, expiration=MANIFEST_EXPIRY
        ),
        s3.LifecycleRule(
            id="expire-statement-parts", prefix=PARTS_PREFIX, expiration=STATEMENT_PARTS_EXPIRY
        ),
    ]
