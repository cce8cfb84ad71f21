"""Read a bank statement file, whichever format it is in: camt.052/.053/.054 or MT940.

The format is told by the content: XML by its root namespace, MT940 by its tags (with or without
the SWIFT blocks ``{1:}{2:}{4:`` and a leading ``:940:`` line). A file over ``max_bytes`` is
refused before it is parsed; ``read_statement_file`` checks the size on disk before reading.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from shared.bulk import fewer_collections
from shared.payments.camt import read_camt
from shared.payments.mt940 import read_mt940
from shared.payments.statement import StatementError, StatementFile

# A CAMT.053 of 100,000 entries written compactly is about 64-100 MB; twice that with room.
DEFAULT_MAX_BYTES = 160 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"
_MT940_START = re.compile(rb"^(?:\{1:|:940:|:20:|\r?\n)", re.ASCII)
_MT940_TAG = re.compile(rb"(?:^|\n):(?:20|25|60F|61):", re.ASCII)


def read_statement(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> StatementFile:
    _check_size(len(data), max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    head = data[:4096].lstrip(_BOM).lstrip()
    if not head:
        raise StatementError("file", "the file is empty")
    if head.startswith(b"<"):
        with fewer_collections():
            return read_camt(data, digest)
    if _MT940_START.match(head) or _MT940_TAG.search(head):
        with fewer_collections():
            return read_mt940(data, digest)
    raise StatementError("file", "neither camt XML nor MT940: the format is not recognised")


def read_statement_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> StatementFile:
    _check_size(path.stat().st_size, max_bytes)
    with path.open("rb") as source:
        data = source.read(max_bytes + 1)
    return read_statement(data, max_bytes=max_bytes)


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise StatementError(
            "file", f"{size:,} bytes is over the limit of {max_bytes:,} bytes for a statement file"
        )
