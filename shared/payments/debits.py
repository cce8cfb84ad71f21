"""SEPA core direct debits: what a collection date collects, and the pain.008 file that asks for it.

Pure rules, no I/O:
- Due items. A collection date collects every invoice item of a customer with a usable mandate
  that is due on or before the date and still open (open, or partially paid: the open rest).
  Items reopened by a returned debit are not collected again here; dunning takes them.
- Lead time. The collection date is a TARGET2 business day at least one business day after the
  export (the rulebook's D-1 for core debits, FRST and RCUR alike since 2016).
- The file. One PmtInf per sequence type (FRST, RCUR), built with sepaxml, one transaction per
  item with the end-to-end id of ``shared.payments.collections``. Message id, file id and the
  PmtInfIds are derived from the date and the contents, so the same collections give the same
  ids. The file is checked against the official XSD of its version before anyone writes it.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any, Literal

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field
from sepaxml import SepaDD

from shared.accounts.model import Account, OpenItem
from shared.invoicing.model import Seller
from shared.money import to_cents
from shared.payments.collections import (
    Collection,
    CollectionBatch,
    end_to_end_id,
    parse_end_to_end_id,
)
from shared.payments.mandates import SequenceType, StoredMandate
from shared.payments.target import holiday_name, next_business_day

PainVersion = Literal["001.08", "001.02"]
VERSIONS: tuple[PainVersion, ...] = ("001.08", "001.02")
DEFAULT_VERSION: PainVersion = "001.08"
SEQUENCES: tuple[SequenceType, ...] = ("FRST", "RCUR")
COLLECTABLE_STATUSES = frozenset({"open", "partially_paid"})
REMITTANCE_LENGTH = 140
NAME_LENGTH = 70
# The characters the EPC rulebook guarantees every bank accepts (SEPA basic Latin).
_SEPA_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-?:().,'+ "
)
_FOLDED = {"ß": "ss", "Æ": "AE", "æ": "ae", "Ø": "O", "ø": "o", "Ł": "L", "ł": "l", "&": "+"}


class DebitInputError(ValueError):
    """A request the export refuses: the field and the reason, before anything is written."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class DebitFileError(ValueError):
    """A pain.008 file that does not validate against its XSD."""


@dataclass(frozen=True)
class Creditor:
    name: str
    iban: str
    bic: str
    creditor_id: str


def creditor_of(seller: Seller) -> Creditor:
    if not seller.creditor_id:
        raise DebitInputError(
            "creditor_id", "no SEPA creditor identifier configured (BILLING_SELLER_CREDITOR_ID)"
        )
    return Creditor(
        name=seller.name, iban=seller.iban, bic=seller.bic, creditor_id=seller.creditor_id
    )


def parse_version(value: str) -> PainVersion:
    for version in VERSIONS:
        if value == version:
            return version
    raise DebitInputError("version", f"{value!r} is not one of {', '.join(VERSIONS)}")


def parse_collection_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise DebitInputError("collection_date", f"{value!r} is not a date (YYYY-MM-DD)") from error


def check_lead_time(collection_date: date, today: date) -> None:
    """A TARGET2 business day, at least one business day after ``today``."""
    closed = holiday_name(collection_date)
    if closed is not None:
        raise DebitInputError(
            "collection_date",
            f"{collection_date} is not a TARGET2 business day ({closed}); "
            f"the next one is {next_business_day(collection_date)}",
        )
    earliest = next_business_day(today)
    if collection_date < earliest:
        raise DebitInputError(
            "collection_date",
            f"{collection_date} is too early: a collection needs one TARGET2 business day of "
            f"lead time after the export on {today}; the earliest is {earliest}",
        )


class DebitPayment(BaseModel):
    """One transaction of a debit file: one open item of one customer under its mandate; the
    item in the form ``item_key`` gives it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: str
    item: str
    document_number: str | None
    amount: Decimal = Field(gt=0)
    end_to_end_id: str = Field(max_length=35)
    sequence: SequenceType
    mandate_reference: str = Field(max_length=35)
    mandate_signed_on: date
    debtor_name: str = Field(min_length=1, max_length=NAME_LENGTH)
    debtor_iban: str
    debtor_bic: str | None = None
    remittance: str = Field(min_length=1, max_length=REMITTANCE_LENGTH)

    def collection(self) -> Collection:
        return Collection(
            customer_id=self.customer_id,
            item=self.item,
            amount=self.amount,
            end_to_end_id=self.end_to_end_id,
            mandate_reference=self.mandate_reference,
            sequence=self.sequence,
        )


@dataclass(frozen=True)
class Skipped:
    customer_id: str
    item: str | None
    reason: str


def due_items(account: Account, collection_date: date) -> list[OpenItem]:
    """Invoice items due by the date that are open or partially paid."""
    return [
        item
        for item in account.open_items()
        if item.kind == "invoice"
        and item.status in COLLECTABLE_STATUSES
        and item.due_on is not None
        and item.due_on <= collection_date
    ]


def payments_for(
    account: Account, stored: StoredMandate, collection_date: date
) -> tuple[list[DebitPayment], list[Skipped]]:
    """The account's due items as transactions under the mandate; items that cannot be named."""
    payments: list[DebitPayment] = []
    skipped: list[Skipped] = []
    for item in due_items(account, collection_date):
        try:
            payments.append(_payment(account.customer_id, item, stored))
        except ValueError as error:
            skipped.append(Skipped(account.customer_id, item.item, str(error)))
    return payments, skipped


def item_key(item: str) -> str:
    """An item as end-to-end ids, batches and claims name it: letters and digits, upper case
    (``RE-2026-00000001`` is ``RE202600000001``), as the statement matching looks it up."""
    return re.sub(r"[^A-Z0-9]", "", item.upper())


def _payment(customer_id: str, item: OpenItem, stored: StoredMandate) -> DebitPayment:
    mandate = stored.mandate
    key = item_key(item.item)
    return DebitPayment(
        customer_id=customer_id,
        item=key,
        document_number=item.document_number,
        amount=to_cents(item.open),
        end_to_end_id=end_to_end_id(customer_id, key),
        sequence=stored.sequence,
        mandate_reference=mandate.reference,
        mandate_signed_on=mandate.signed_on,
        debtor_name=sepa_text(mandate.account_holder, NAME_LENGTH),
        debtor_iban=mandate.iban.replace(" ", "").upper(),
        debtor_bic=mandate.bic,
        remittance=remittance(customer_id, item),
    )


def remittance(customer_id: str, item: OpenItem) -> str:
    """The unstructured remittance the debtor's statement shows: which invoice, which customer."""
    number = item.document_number or item.item
    rest = " Restbetrag" if item.status == "partially_paid" else ""
    return sepa_text(f"Rechnung {number}{rest} Kunde {customer_id}", REMITTANCE_LENGTH)


def sepa_text(text: str, length: int) -> str:
    """Text in the SEPA basic Latin set: letters folded to their base, anything else a space."""
    folded = "".join(_FOLDED.get(char, char) for char in text)
    decomposed = unicodedata.normalize("NFKD", folded)
    kept = "".join(c if c in _SEPA_CHARACTERS else " " for c in decomposed if not _combining(c))
    return " ".join(kept.split())[:length].strip()


def _combining(char: str) -> bool:
    return unicodedata.combining(char) != 0


def ordered(payments: Iterable[DebitPayment]) -> list[DebitPayment]:
    """FRST before RCUR, then by end-to-end id: the order of the file."""
    return sorted(payments, key=lambda p: (SEQUENCES.index(p.sequence), p.end_to_end_id))


def file_id_for(
    creditor: Creditor,
    collection_date: date,
    version: PainVersion,
    payments: Sequence[DebitPayment],
) -> str:
    """``DD<yyyymmdd>-`` and 12 hex digits of a hash of everything the file says."""
    content = {
        "creditor": [creditor.creditor_id, creditor.iban, creditor.bic, creditor.name],
        "date": collection_date.isoformat(),
        "version": version,
        "payments": [p.model_dump(mode="json") for p in ordered(payments)],
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return f"DD{collection_date:%Y%m%d}-{digest[:12].upper()}"


def payment_info_id(file_id: str, sequence: SequenceType) -> str:
    return f"{file_id}-{sequence}"


def file_key(collection_date: date, file_id: str) -> str:
    return f"debits/{collection_date.isoformat()}/{file_id}.xml"


def batches_of(
    file_id: str, collection_date: date, payments: Sequence[DebitPayment]
) -> list[CollectionBatch]:
    """One recorded batch per PmtInf of the file, in the file's order."""
    return [
        CollectionBatch(
            payment_info_id=payment_info_id(file_id, sequence),
            file_id=file_id,
            collection_date=collection_date,
            collections=tuple(p.collection() for p in ordered(payments) if p.sequence == sequence),
        )
        for sequence in SEQUENCES
        if any(p.sequence == sequence for p in payments)
    ]


def pain008(
    creditor: Creditor,
    collection_date: date,
    payments: Sequence[DebitPayment],
    *,
    version: PainVersion,
    file_id: str,
    created_at: datetime,
) -> bytes:
    """The file, validated against the XSD of its version; DebitFileError if it is not valid."""
    if not payments:
        raise ValueError("a debit file needs at least one payment")
    debit = SepaDD(_config(creditor), schema=schema_name(version), clean=True)
    for payment in ordered(payments):
        debit.add_payment(_sepaxml_payment(payment, collection_date))
    tree = etree.fromstring(debit.export(validate=False))
    _fix_ids(tree, file_id, created_at)
    xml: bytes = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    validate_pain008(xml, version)
    return xml


def _config(creditor: Creditor) -> dict[str, Any]:
    return {
        "name": sepa_text(creditor.name, NAME_LENGTH),
        "IBAN": creditor.iban.replace(" ", ""),
        "BIC": creditor.bic,
        "batch": True,
        "creditor_id": creditor.creditor_id,
        "currency": "EUR",
    }


def _sepaxml_payment(payment: DebitPayment, collection_date: date) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": payment.debtor_name,
        "IBAN": payment.debtor_iban,
        "amount": cents(payment.amount),
        "type": payment.sequence,
        "collection_date": collection_date,
        "mandate_id": payment.mandate_reference,
        "mandate_date": payment.mandate_signed_on,
        "description": payment.remittance,
        "endtoend_id": payment.end_to_end_id,
    }
    if payment.debtor_bic:
        values["BIC"] = payment.debtor_bic
    return values


def cents(amount: Decimal) -> int:
    """Whole cents as sepaxml takes amounts; an amount with a fraction of a cent is an error."""
    exact = amount * 100
    if exact != exact.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of cents")
    return int(exact)


def _fix_ids(tree: Any, file_id: str, created_at: datetime) -> None:
    """sepaxml draws random ids and takes the clock; ours come from the contents."""
    header = _child(_child(tree, "CstmrDrctDbtInitn"), "GrpHdr")
    _child(header, "MsgId").text = file_id
    _child(header, "CreDtTm").text = created_at.strftime("%Y-%m-%dT%H:%M:%S")
    for block in tree.iter(_tag(tree, "PmtInf")):
        sequence = next(block.iter(_tag(tree, "SeqTp"))).text
        _child(block, "PmtInfId").text = payment_info_id(file_id, sequence)


def _tag(tree: Any, name: str) -> str:
    return f"{{{etree.QName(tree).namespace}}}{name}"


def _child(element: Any, name: str) -> Any:
    found = element.find(_tag(element, name))
    if found is None:
        raise DebitFileError(f"the file lacks {name}")
    return found


def schema_name(version: PainVersion) -> str:
    return f"pain.008.{version}"


@cache
def _schema(version: PainVersion) -> etree.XMLSchema:
    source = files("shared.data.xsd").joinpath(f"{schema_name(version)}.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(source))


def validate_pain008(xml: bytes, version: PainVersion) -> None:
    """Raises DebitFileError naming the first violation of the official XSD."""
    try:
        document = etree.fromstring(xml)
    except etree.XMLSyntaxError as error:
        raise DebitFileError(f"not well-formed XML: {error}") from error
    try:
        _schema(version).assertValid(document)
    except etree.DocumentInvalid as error:
        raise DebitFileError(f"{schema_name(version)} XSD: {error}") from error


@dataclass(frozen=True)
class DebitFile:
    """What a written pain.008 file collects, read back from the file itself."""

    file_id: str
    collection_date: date
    version: PainVersion
    batches: tuple[CollectionBatch, ...]

    @property
    def collections(self) -> tuple[Collection, ...]:
        return tuple(c for batch in self.batches for c in batch.collections)


def read_pain008(xml: bytes) -> DebitFile:
    """The file id, date, version and collections of one of our own pain.008 files."""
    tree = etree.fromstring(xml)
    namespace = etree.QName(tree).namespace or ""
    version = parse_version(namespace.rsplit("pain.008.", 1)[-1])
    file_id = _child(_child(_child(tree, "CstmrDrctDbtInitn"), "GrpHdr"), "MsgId").text or ""
    batches = tuple(_read_batch(block, file_id) for block in tree.iter(_tag(tree, "PmtInf")))
    if not batches:
        raise DebitFileError(f"{file_id} holds no payment information block")
    dates = {batch.collection_date for batch in batches}
    if len(dates) != 1:
        raise DebitFileError(f"{file_id} collects on more than one date")
    return DebitFile(file_id, dates.pop(), version, batches)


def _read_batch(block: Any, file_id: str) -> CollectionBatch:
    sequence = _sequence(_text(block, "SeqTp"))
    collections = tuple(
        _read_collection(transaction, sequence)
        for transaction in block.iter(_tag(block, "DrctDbtTxInf"))
    )
    return CollectionBatch(
        payment_info_id=_text(block, "PmtInfId"),
        file_id=file_id,
        collection_date=date.fromisoformat(_text(block, "ReqdColltnDt")),
        collections=collections,
    )


def _read_collection(transaction: Any, sequence: SequenceType) -> Collection:
    identifier = _text(transaction, "EndToEndId")
    found = parse_end_to_end_id(identifier)
    if found is None:
        raise DebitFileError(f"end-to-end id {identifier!r} is not one of ours")
    return Collection(
        customer_id=found[0],
        item=found[1],
        amount=Decimal(_text(transaction, "InstdAmt")),
        end_to_end_id=identifier,
        mandate_reference=_text(transaction, "MndtId"),
        sequence=sequence,
    )


def _text(element: Any, name: str) -> str:
    found = next(element.iter(_tag(element, name)), None)
    if found is None or not found.text:
        raise DebitFileError(f"the file lacks {name}")
    return str(found.text)


def _sequence(value: str) -> SequenceType:
    for sequence in SEQUENCES:
        if value == sequence:
            return sequence
    raise DebitFileError(f"sequence type {value!r} is neither FRST nor RCUR")
