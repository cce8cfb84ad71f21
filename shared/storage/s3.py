"""The S3 implementations: the document archive under Object Lock and the run work bucket."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

MANIFEST_CONTENT_TYPE = "application/json"
PDF_CONTENT_TYPE = "application/pdf"
XML_CONTENT_TYPE = "application/xml"


class S3Archive:
    """Documents are written once with COMPLIANCE retention set on the PUT, never overwritten."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def store_pdf(self, key: str, body: bytes, *, retain_until: datetime) -> bool:
        return self._store_once(key, body, PDF_CONTENT_TYPE, retain_until)

    def store_xml(self, key: str, body: bytes, *, retain_until: datetime) -> bool:
        return self._store_once(key, body, XML_CONTENT_TYPE, retain_until)

    def _store_once(self, key: str, body: bytes, content_type: str, retain_until: datetime) -> bool:
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                IfNoneMatch="*",
                ObjectLockMode="COMPLIANCE",
                ObjectLockRetainUntilDate=retain_until,
                ChecksumAlgorithm="SHA256",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] in {"PreconditionFailed", "412"}:
                return False
            raise
        return True

    def read(self, key: str) -> bytes:
        response = self._client.get_object(Bucket=self._bucket, Key=key)
        body: bytes = response["Body"].read()
        return body

    def read_if_present(self, key: str) -> bytes | None:
        try:
            return self.read(key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise

    def download_url(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        params = {"Bucket": self._bucket, "Key": key}
        if filename is not None:
            params["ResponseContentDisposition"] = _attachment(filename)
        url: str = self._client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expires_in
        )
        return url


class S3WorkStore:
    """Run manifests and reports."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    @property
    def bucket(self) -> str:
        return self._bucket

    def write_json(self, key: str, document: Any) -> str:
        self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=json.dumps(document, indent=1, default=str).encode(),
            ContentType=MANIFEST_CONTENT_TYPE,
        )
        return key

    def read_json(self, key: str) -> Any:
        response = self._client.get_object(Bucket=self._bucket, Key=key)
        return json.loads(response["Body"].read())

    def write_bytes(self, key: str, body: bytes) -> str:
        self._client.put_object(
            Bucket=self._bucket, Key=key, Body=body, ContentType=MANIFEST_CONTENT_TYPE
        )
        return key

    def read_bytes(self, key: str) -> bytes:
        body: bytes = self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        return body

    def read_json_if_present(self, key: str) -> Any | None:
        try:
            return self.read_json(key)
        except self._client.exceptions.NoSuchKey:
            return None


def _attachment(filename: str) -> str:
    """A Content-Disposition that saves under ``filename`` (document numbers: plain ASCII)."""
    if not filename.isascii() or any(char in filename for char in '"\\\r\n'):
        raise ValueError("a download file name must be plain ASCII without quotes")
    return f'attachment; filename="{filename}"'
