"""The paced sender's use case: e-mail one announced invoice, once.

An attempt first claims the invoice (a conditional write of status ``sending``); only the attempt
whose claim is written sends. A copy of the same queue message, or the same invoice announced
again by a re-run, finds the claim or a final status and sends nothing. The one gap left: an
attempt that dies between SES accepting the e-mail and its ``sent`` record leaves a stale claim,
and after its lease the invoice is sent again. That costs a second e-mail, never a lost one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from shared.delivery import rules
from shared.delivery.mail import Letterhead, compose
from shared.delivery.model import DeliveryRecord, DeliveryRequest
from shared.delivery.ports import (
    DeliveryLog,
    IssuedInvoices,
    IssuedNotices,
    Mailer,
    MailRejectedError,
    PdfSource,
)
from shared.dunning.mail import compose_notice
from shared.invoicing.documents import xml_key
from shared.invoicing.model import Invoice

logger = logging.getLogger(__name__)

Outcome = Literal["sent", "failed", "skipped"]


class DeliveryRetryError(Exception):
    """The e-mail could not be sent this time; the queue brings the message back later."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class DeliveryService:
    def __init__(
        self,
        *,
        mailer: Mailer,
        log: DeliveryLog,
        invoices: IssuedInvoices,
        archive: PdfSource,
        letterhead: Letterhead,
        clock: Callable[[], datetime] = utc_now,
        notices: IssuedNotices | None = None,
    ) -> None:
        self._mailer = mailer
        self._log = log
        self._invoices = invoices
        self._archive = archive
        self._letterhead = letterhead
        self._clock = clock
        self._notices = notices

    def deliver(self, request: DeliveryRequest) -> Outcome:
        """Send the invoice unless it was sent or another attempt holds it.

        A permanent rejection is recorded as failed and not retried; anything else that goes
        wrong is recorded as failed and raised as DeliveryRetryError, for the queue to retry.
        """
        keys = {"invoice_number": request.number, "customer_id": request.customer_id}
        if request.channel != "email":
            raise ValueError(f"the sender e-mails invoices; {request.number} goes by post")
        previous = self._log.get(request.run_id, request.number)
        claim = rules.claimed(request, previous, self._clock())
        if not rules.may_claim(previous, claim.updated_at) or not self._log.put(
            claim, replacing=previous
        ):
            logger.info("invoice delivery skipped", extra=keys | {"reason": "claimed or done"})
            return "skipped"

        try:
            return self._send(request, claim)
        except MailRejectedError as error:
            self._fail(claim, str(error))
            if error.permanent:
                return "failed"
            raise DeliveryRetryError(str(error)) from error
        except Exception as error:
            self._fail(claim, f"{type(error).__name__}: {error}")
            raise DeliveryRetryError(str(error)) from error

    def _send(self, request: DeliveryRequest, claim: DeliveryRecord) -> Outcome:
        if request.document == "dunning":
            return self._send_notice(request, claim)
        invoice = self._invoice(request)
        pdf = self._archive.read(request.pdf_key) if request.attach_pdf else None
        xml = self._archive.read(xml_key(request.pdf_key)) if request.attach_xml else None
        message = compose(invoice, self._letterhead, pdf=pdf, xml=xml, now=claim.updated_at)
        message_id = self._mailer.send(message)
        done = rules.sent(
            claim,
            recipient=invoice.draft.buyer.email,
            message_id=message_id,
            attached=pdf is not None,
            now=self._clock(),
        )
        if not self._log.put(done, replacing=claim):
            logger.warning(
                "sent invoice found its claim replaced",
                extra={"invoice_number": request.number, "message_id": message_id},
            )
        logger.info(
            "invoice e-mailed",
            extra={
                "invoice_number": request.number,
                "customer_id": request.customer_id,
                "message_id": message_id,
                "attached_pdf": pdf is not None,
            },
        )
        return "sent"

    def _send_notice(self, request: DeliveryRequest, claim: DeliveryRecord) -> Outcome:
        """A dunning notice: its own short text, always with the letter attached."""
        found = (
            self._notices.notice(request.customer_id, request.issue_date, request.number)
            if self._notices is not None
            else None
        )
        if found is None:
            raise MailRejectedError(f"no issued dunning notice {request.number}", permanent=True)
        pdf = self._archive.read(request.pdf_key)
        message = compose_notice(found, self._letterhead, pdf=pdf, now=claim.updated_at)
        message_id = self._mailer.send(message)
        done = rules.sent(
            claim,
            recipient=found.recipient.email,
            message_id=message_id,
            attached=True,
            now=self._clock(),
        )
        self._log.put(done, replacing=claim)
        logger.info(
            "dunning notice e-mailed",
            extra={
                "notice_number": request.number,
                "customer_id": request.customer_id,
                "message_id": message_id,
            },
        )
        return "sent"

    def _invoice(self, request: DeliveryRequest) -> Invoice:
        invoice = self._invoices.invoice(request.customer_id, request.issue_date, request.number)
        if invoice is None:
            raise MailRejectedError(f"no issued invoice {request.number}", permanent=True)
        return invoice

    def _fail(self, claim: DeliveryRecord, reason: str) -> None:
        self._log.put(rules.failed(claim, reason=reason, now=self._clock()), replacing=claim)
        logger.warning(
            "invoice delivery failed",
            extra={
                "invoice_number": claim.number,
                "customer_id": claim.customer_id,
                "reason": reason,
            },
        )
