"""The DATEV export of a date range: its documents and postings as one Buchungsstapel, with the
totals per account and the checks that they reconcile with the documents and the ledger.

Which documents: every number the number ranges handed out with an issue date in the range
(invoices and corrections alike: each block of numbers records its issue date and customers),
read by key from the Documents table. A number is an issued document or a void; a number that is
neither (an invoice run still at work) is reported, and the export does not reconcile then.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Protocol

from shared.accounts.datev import (
    AccountTotal,
    Booking,
    Chart,
    Check,
    DatevAccounts,
    DatevHeader,
    Reconciliation,
    account_totals,
    buchungsstapel,
    check_range,
    document_bookings,
    posting_bookings,
    reconcile,
    with_debtors,
)
from shared.accounts.ports import Ledger
from shared.invoicing.model import Invoice
from shared.money import ZERO


@dataclass(frozen=True)
class IssuedDocument:
    invoice: Invoice
    # The gross stored beside the document (what archive and run reports show).
    recorded_gross: Decimal


@dataclass
class IssuedInRange:
    documents: list[IssuedDocument] = field(default_factory=list)
    voids: int = 0
    # Numbers handed out in the range that are neither a document nor a void.
    missing: list[str] = field(default_factory=list)


class DocumentRegister(Protocol):
    def issued_between(self, first: date, last: date) -> IssuedInRange:
        """Every number of the given prefixes issued from ``first`` to ``last`` inclusive."""
        ...


class DebtorNumbers(Protocol):
    def numbers(self, customer_ids: Collection[str]) -> dict[str, int]:
        """Each customer's number in the debtor range (from 1); customers without one get the
        next free numbers, in the order given. A number, once given, is the customer's for good."""
        ...


@dataclass(frozen=True)
class DatevOptions:
    chart: Chart
    consultant: int
    client: int
    accounts: DatevAccounts
    fiscal_year_start_month: int = 1
    fixed: bool = False


@dataclass(frozen=True)
class DatevExportResult:
    first: date
    last: date
    csv: bytes
    bookings: tuple[Booking, ...]
    totals: tuple[AccountTotal, ...]
    reconciliation: Reconciliation
    documents: int
    postings: int
    voids: int
    missing: tuple[str, ...]


@dataclass
class DatevExport:
    documents: DocumentRegister
    ledger: Ledger
    options: DatevOptions
    debtors: DebtorNumbers
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def export(self, first: date, last: date) -> DatevExportResult:
        """Raises DatevError naming the field for a range DATEV cannot take as one batch."""
        year_start = check_range(first, last, self.options.fiscal_year_start_month)
        issued = self.documents.issued_between(first, last)
        postings = list(self.ledger.postings_between(first, last))
        customers = {d.invoice.customer_id for d in issued.documents}
        customers |= {posting.customer_id for posting in postings}
        accounts = with_debtors(self.options.accounts, self.debtors.numbers(sorted(customers)))
        bookings = [b for d in issued.documents for b in document_bookings(d.invoice, accounts)]
        bookings += [b for p in postings for b in posting_bookings(p, accounts)]
        bookings.sort(key=lambda b: (b.day, b.source != "document", b.document))

        recorded = sum((d.recorded_gross for d in issued.documents), ZERO)
        reconciliation = reconcile(recorded, postings, bookings, accounts)
        reconciliation.checks.append(
            Check("numbers without a document or void", ZERO, Decimal(len(issued.missing)))
        )
        header = DatevHeader(
            consultant=self.options.consultant,
            client=self.options.client,
            chart=self.options.chart,
            first=first,
            last=last,
            created_at=self.clock(),
            fiscal_year_start=year_start,
            account_length=len(str(accounts.debtor_first)) - 1,
            fixed=self.options.fixed,
        )
        return DatevExportResult(
            first=first,
            last=last,
            csv=buchungsstapel(header, bookings),
            bookings=tuple(bookings),
            totals=tuple(account_totals(bookings, accounts)),
            reconciliation=reconciliation,
            documents=len(issued.documents),
            postings=sum(1 for p in postings if posting_bookings(p, accounts)),
            voids=issued.voids,
            missing=tuple(issued.missing),
        )
