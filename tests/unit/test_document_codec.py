"""Issued documents are kept deflated in their DynamoDB item and come back unchanged."""

from __future__ import annotations

import hashlib

import pytest

from shared.storage import document_codec
from shared.storage.dynamodb import _document_item, from_item, invoice_from_item, to_item
from tests.unit.test_pdf import invoice

# The dictionary of codec z1 is part of every stored document: it must never change.
Z1_DICTIONARY_SHA256 = "a30e1c6bc15387d408a15fac3cf5384316bb99fc3c4a06333ceac1a42a944f3f"


@pytest.mark.parametrize("lines", [1, 5, 40])
def test_a_document_comes_back_exactly_as_issued(lines: int) -> None:
    issued = invoice(lines)

    stored = document_codec.encode(issued)

    assert document_codec.decode("z1", stored) == issued


def test_a_typical_invoice_item_fits_one_write_unit() -> None:
    item = to_item(_document_item(invoice(5), shard=3, pdf_key="C0000001/RE-2026-00000042.pdf"))

    size = sum(len(name) + _attribute_size(value) for name, value in item.items())

    assert size <= 1024


def test_the_item_carries_its_codec_and_reads_back() -> None:
    issued = invoice(3)
    item = from_item(to_item(_document_item(issued, shard=0, pdf_key="k")))

    assert item["codec"] == "z1"
    assert invoice_from_item(item) == issued


def test_an_unknown_codec_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown document codec 'z9'"):
        document_codec.decode("z9", document_codec.encode(invoice(1)))


def test_the_z1_dictionary_is_unchanged() -> None:
    assert hashlib.sha256(document_codec.dictionary()).hexdigest() == Z1_DICTIONARY_SHA256


def _attribute_size(value: dict[str, object]) -> int:
    (kind, content), *_ = value.items()
    if kind == "B":
        return len(content)  # type: ignore[arg-type]
    return len(str(content).encode())
