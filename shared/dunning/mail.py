"""The e-mail that carries a dunning notice: a short text in the notice's language, the letter
itself attached as PDF (a notice is a legal statement, so it travels whole)."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from shared.delivery.mail import Letterhead, domain_of
from shared.dunning import texts
from shared.dunning.model import Notice

GREETING = {"de": "Guten Tag {name},", "en": "Dear {name},"}
ATTACHED = {
    "de": "anbei erhalten Sie unser Schreiben „{title}“ ({number}) vom {date}.",
    "en": "please find attached our letter '{title}' ({number}) of {date}.",
}
AMOUNT = {"de": "Offener Betrag: {total}", "en": "Amount open: {total}"}
DEADLINE = {"de": "Bitte zahlen Sie bis zum {deadline}.", "en": "Please pay by {deadline}."}
PORTAL = {
    "de": "Sie finden das Schreiben auch in Ihrem Kundenkonto:",
    "en": "You also find the letter in your customer account:",
}
REGARDS = {"de": "Mit freundlichen Grüßen", "en": "Kind regards"}


def subject(notice: Notice) -> str:
    return f"{notice.title} {notice.number}"


def body(notice: Notice, letterhead: Letterhead) -> str:
    language = notice.recipient.language
    values = {
        "name": notice.recipient.name,
        "title": notice.title,
        "number": notice.number,
        "date": texts.day(notice.issue_date, language),
        "total": texts.money(notice.total, language),
        "deadline": texts.day(notice.deadline, language) if notice.deadline else "",
    }
    lines = [
        GREETING[language].format(**values),
        "",
        ATTACHED[language].format(**values),
        "",
        AMOUNT[language].format(**values),
    ]
    if notice.deadline is not None:
        lines.append(DEADLINE[language].format(**values))
    lines += ["", PORTAL[language], letterhead.document_link(notice.number), ""]
    lines += [REGARDS[language], letterhead.sender_name, ""]
    return "\n".join(lines)


def compose_notice(
    notice: Notice, letterhead: Letterhead, *, pdf: bytes, now: datetime
) -> EmailMessage:
    recipient = notice.recipient
    message = EmailMessage()
    message["Subject"] = subject(notice)
    message["From"] = formataddr((letterhead.sender_name, letterhead.sender))
    message["To"] = formataddr((recipient.name, recipient.email))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(idstring=notice.number, domain=domain_of(letterhead.sender))
    message.set_content(body(notice, letterhead))
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=f"{notice.number}.pdf"
    )
    return message
