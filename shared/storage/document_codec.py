"""How an issued document is kept inside its DynamoDB item: JSON, deflated with a preset
dictionary of typical invoices, so that the item stays within one write unit (1 KB).

The dictionary only feeds back-references to the compressor; any document round-trips, typical
ones shrink from about 1.5 KB to about 150 bytes. A stored document names its codec, and the
dictionary of a codec must never change (a test pins its digest): a new one is a new codec.
"""

from __future__ import annotations

import zlib
from functools import cache
from importlib import resources

from shared.invoicing.model import Invoice

CODEC = "z1"
DICTIONARY_FILE = "invoice-dictionary-v1.txt"


@cache
def dictionary() -> bytes:
    return resources.files("shared.data").joinpath(DICTIONARY_FILE).read_bytes()


def encode(invoice: Invoice) -> bytes:
    compressor = zlib.compressobj(level=9, zdict=dictionary())
    return compressor.compress(invoice.model_dump_json().encode()) + compressor.flush()


def decode(codec: str, data: bytes) -> Invoice:
    if codec != CODEC:
        raise ValueError(f"unknown document codec {codec!r}")
    decompressor = zlib.decompressobj(zdict=dictionary())
    text = decompressor.decompress(data) + decompressor.flush()
    return Invoice.model_validate_json(text)
