"""MT940 statements (placeholder until the parser lands)."""

from __future__ import annotations

from shared.payments.statement import StatementError, StatementFile


def read_mt940(data: bytes, digest: str) -> StatementFile:
    raise StatementError("file", "MT940 files cannot be read yet")
