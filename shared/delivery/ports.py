"""What delivery needs from the outside world, as small interfaces."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from email.message import EmailMessage
from typing import Protocol

from shared.delivery.model import DeliveryRecord, DeliveryRequest, PrintBatch
from shared.dunning.model import Notice
from shared.invoicing.model import Invoice
from shared.invoicing.run import PostDocument


class MailRejectedError(Exception):
    """The mail service refused a message; ``permanent`` when sending it again cannot help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class DeliveryQueue(Protocol):
    def announce(self, requests: Sequence[DeliveryRequest]) -> None:
        """Queue the requests for the sender; a request may be announced more than once."""
        ...


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Send the message to its To address: the provider's message id, or MailRejectedError."""
        ...


class DeliveryLog(Protocol):
    def get(self, run_id: str, number: str) -> DeliveryRecord | None: ...

    def get_many(self, run_id: str, numbers: Sequence[str]) -> dict[str, DeliveryRecord]: ...

    def put(self, record: DeliveryRecord, *, replacing: DeliveryRecord | None) -> bool:
        """Write the record if ``replacing`` is still the stored one (None: none is stored)."""
        ...

    def of_run(self, run_id: str) -> Iterator[DeliveryRecord]: ...


class IssuedInvoices(Protocol):
    def invoice(self, customer_id: str, issue_date: date, number: str) -> Invoice | None: ...


class IssuedNotices(Protocol):
    def notice(self, customer_id: str, issue_date: date, number: str) -> Notice | None: ...


class PdfSource(Protocol):
    def read(self, key: str) -> bytes: ...


class PrintBatchStore(Protocol):
    def store(self, key: str, body: bytes) -> bool:
        """Store the batch once; False when a batch under the key was stored before."""
        ...


class PrintRun(Protocol):
    def print_run(
        self, run_id: str, execution: str, documents: Sequence[PostDocument]
    ) -> PrintBatch | None:
        """Put the run's post documents not printed yet into one batch; None when none are left."""
        ...
