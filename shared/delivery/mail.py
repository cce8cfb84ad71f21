"""The invoice e-mail: German text with amount, due date and a link to the customer's archive.

The message is always built as MIME, so that SES gets the same kind of message whether or not
the PDF travels with it; the PDF is attached only for customers who asked for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from shared.invoicing.model import Invoice
from shared.money import format_eur
from shared.periods import Period


@dataclass(frozen=True)
class Letterhead:
    """Who the e-mails come from and where customers read their documents."""

    sender: str
    sender_name: str
    portal_url: str

    def document_link(self, number: str) -> str:
        return f"{self.portal_url.rstrip('/')}/documents/{number}"


def german_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def service_period(period: str) -> str:
    parsed = Period.parse(period)
    return f"{german_date(parsed.start)} bis {german_date(parsed.end)}"


def subject(invoice: Invoice) -> str:
    return f"Ihre {invoice.title} {invoice.number} vom {german_date(invoice.issue_date)}"


def body(invoice: Invoice, letterhead: Letterhead, *, attached: bool, xml: bool = False) -> str:
    draft = invoice.draft
    lines = [
        f"Guten Tag {draft.buyer.name},",
        "",
        f"Ihre {invoice.title} {invoice.number} vom {german_date(invoice.issue_date)} "
        "liegt für Sie bereit.",
        "",
        f"Rechnungsbetrag: {format_eur(draft.gross)}",
        f"Fällig am: {german_date(invoice.due_date)}",
        f"Leistungszeitraum: {service_period(draft.period)}",
        "",
        "Sie finden das Dokument jederzeit in Ihrem Kundenkonto:",
        letterhead.document_link(invoice.number),
    ]
    if attached:
        lines += ["", "Das Dokument ist dieser E-Mail außerdem als PDF beigefügt."]
    if xml:
        lines += ["", "Die E-Rechnung (XRechnung) ist dieser E-Mail als XML-Datei beigefügt."]
    lines += ["", "Mit freundlichen Grüßen", letterhead.sender_name, ""]
    return "\n".join(lines)


def compose(
    invoice: Invoice,
    letterhead: Letterhead,
    *,
    pdf: bytes | None,
    now: datetime,
    xml: bytes | None = None,
) -> EmailMessage:
    """The complete message to the invoice's buyer; ``pdf`` is attached as <number>.pdf, the
    XRechnung of an XML-only customer as <number>.xml."""
    buyer = invoice.draft.buyer
    message = EmailMessage()
    message["Subject"] = subject(invoice)
    message["From"] = formataddr((letterhead.sender_name, letterhead.sender))
    message["To"] = formataddr((buyer.name, buyer.email))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(idstring=invoice.number, domain=domain_of(letterhead.sender))
    message.set_content(body(invoice, letterhead, attached=pdf is not None, xml=xml is not None))
    if pdf is not None:
        message.add_attachment(
            pdf, maintype="application", subtype="pdf", filename=f"{invoice.number}.pdf"
        )
    if xml is not None:
        message.add_attachment(
            xml, maintype="application", subtype="xml", filename=f"{invoice.number}.xml"
        )
    return message


def domain_of(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"
