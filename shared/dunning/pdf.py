"""The dunning notice as a PDF/A-3b letter, drawn with the invoice's own writer and fonts.

Letterhead, address window and information block sit where the invoice has them (DIN 5008 form
B); then the level's title and text, the open items with what was paid of them, this notice's
fee, interest and flat charge, the amount to pay by the new deadline, how the interest was
computed, the payment details and the legal texts. The same notice gives the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from shared.dunning import texts
from shared.dunning.levels import Language
from shared.dunning.model import InterestDetail, Notice, NoticeLine
from shared.invoicing.pdf import xmp
from shared.invoicing.pdf.canvas import Align, Canvas, Style, bold, regular
from shared.invoicing.pdf.layout import (
    ACCENT,
    HAIRLINE,
    HEADER_FILL,
    INK,
    LABEL,
    LEFT,
    MUTED,
    RIGHT,
    RULE,
    clipped,
    folding_marks,
    letterhead,
    wrapped,
)
from shared.invoicing.pdf.writer import DocumentInfo, write_pdf
from shared.payments.iban import grouped_iban

CREATOR = "mass-billing"
BOTTOM = 266.0
CONTINUATION_TOP = 25.0
TEXT = regular(9, INK)
BODY = regular(8.5, INK)
BODY_BOLD = bold(8.5, INK)
HEADING = bold(8, INK)
NOTE = regular(7, MUTED)
SMALL = regular(7.5, INK)
ADDRESS = regular(9.5, INK)
SENDER = regular(6.5, MUTED)
FACT = regular(8, INK)
FOOTER = regular(6.5, MUTED)
FOOTER_BOLD = bold(6.5, INK)
ROW = 5.0
TIMES = "\N{MULTIPLICATION SIGN}"

WORDS: dict[str, tuple[str, str]] = {
    "number": ("Mahnungsnummer", "Notice number"),
    "date": ("Datum", "Date"),
    "customer": ("Kundennummer", "Customer number"),
    "level": ("Mahnstufe", "Dunning level"),
    "deadline": ("Zahlbar bis", "Payable by"),
    "greeting": ("Guten Tag {name},", "Dear {name},"),
    "document": ("Beleg", "Document"),
    "due": ("Fällig am", "Due on"),
    "amount": ("Betrag", "Amount"),
    "paid": ("Gezahlt", "Paid"),
    "open": ("Offen", "Open"),
    "charges": ("Mit diesem Schreiben berechnet", "Charged with this letter"),
    "total": ("Zu zahlen", "Amount to pay"),
    "credit": ("Guthaben auf Ihrem Kundenkonto", "Credit on your account"),
    "returned": ("Lastschrift zurückgegeben: {code}", "Direct debit returned: {code}"),
    "interest_title": ("Berechnung der Verzugszinsen", "How the default interest was computed"),
    "regards": ("Mit freundlichen Grüßen", "Kind regards"),
    "page": ("Seite {n} von {count}", "Page {n} of {count}"),
    "managing": ("Geschäftsführung: {name}", "Managing director: {name}"),
    "vat_id": ("USt-IdNr.: {id}", "VAT ID: {id}"),
}
COLUMNS = (
    (LEFT, "document", Align.LEFT),
    (95.0, "due", Align.LEFT),
    (140.0, "amount", Align.RIGHT),
    (165.0, "paid", Align.RIGHT),
    (RIGHT, "open", Align.RIGHT),
)


def word(key: str, language: Language, **values: str) -> str:
    german, english = WORDS[key]
    return (german if language == "de" else english).format(**values)


def render_notice(notice: Notice) -> bytes:
    letter = Letter(notice)
    letter.first_page()
    letter.items_table()
    letter.interest_block()
    letter.closing_blocks()
    pages = letter.finish()
    info = document_info(notice)
    tag = "de-DE" if notice.recipient.language == "de" else "en-GB"
    return write_pdf(pages, info, xmp.packet(info, None), None, language=tag)


def document_info(notice: Notice) -> DocumentInfo:
    label = f"{notice.title} {notice.number}"
    key = f"dunning:{notice.number}:{notice.issue_date.isoformat()}"
    return DocumentInfo(
        title=label,
        author=notice.seller.name,
        subject=f"{label}, {word('customer', notice.recipient.language)} {notice.customer_id}",
        creator=CREATOR,
        created=notice.issue_date,
        file_id=hashlib.sha256(key.encode()).digest()[:16],
    )


@dataclass(frozen=True)
class Block:
    height: float
    draw: Callable[[Canvas, float], None]


class Letter:
    def __init__(self, notice: Notice) -> None:
        self.notice = notice
        self.language: Language = notice.recipient.language
        self.canvases: list[Canvas] = []
        self.y = 0.0

    @property
    def canvas(self) -> Canvas:
        return self.canvases[-1]

    def first_page(self) -> None:
        self.canvases.append(Canvas())
        folding_marks(self.canvas)
        letterhead(self.canvas, self.notice.seller)
        self._address_window()
        self._facts()
        self.canvas.text(
            LEFT, 100, clipped(self.notice.title, bold(13, INK), RIGHT - LEFT), bold(13, INK)
        )
        self.y = 104.0
        greeting = word("greeting", self.language, name=self.notice.recipient.name)
        self.place(paragraph(greeting, TEXT, 4.3, space_before=2))
        self.place(paragraph(self.notice.intro, TEXT, 4.3, space_before=1))
        self.y += 3

    def next_page(self) -> None:
        self.canvases.append(Canvas())
        name = bold(9, INK)
        self.canvas.text(LEFT, 15, clipped(self.notice.seller.name, name, 60), name)
        reference = (
            f"{self.notice.title} {self.notice.number} · {self.notice.customer_id} · "
            f"{texts.day(self.notice.issue_date, self.language)}"
        )
        self.canvas.right(RIGHT, 15, clipped(reference, LABEL, 100), LABEL)
        self.canvas.line(LEFT, 18, RIGHT, 18, 0.6, ACCENT)
        self.y = CONTINUATION_TOP

    def place(self, block: Block) -> None:
        if self.y + block.height > BOTTOM:
            self.next_page()
        block.draw(self.canvas, self.y)
        self.y += block.height

    def items_table(self) -> None:
        self.place(Block(6.0, self._header))
        for line in self.notice.lines:
            self.place(self._row(line))
        if self.notice.charges:
            self.place(self._label_row(word("charges", self.language), HEADING))
            for charge in self.notice.charges:
                label = texts.kind_label(charge.kind, self.language)
                self.place(self._amount_row(label, texts.money(charge.amount, self.language)))
        if self.notice.credit:
            credit = texts.money(-self.notice.credit, self.language)
            self.place(self._amount_row(word("credit", self.language), credit))
        self.place(Block(9.0, self._total))

    def interest_block(self) -> None:
        if not self.notice.interest:
            return
        self.place(self._label_row(word("interest_title", self.language), HEADING, before=3))
        for detail in self.notice.interest:
            self.place(paragraph(interest_line(detail, self.language), NOTE, 3.2, space_before=0))

    def closing_blocks(self) -> None:
        notice = self.notice
        if notice.payment_text:
            self.place(paragraph(notice.payment_text, TEXT, 4.3, space_before=4))
        self.place(paragraph(notice.closing, TEXT, 4.3, space_before=2))
        for text in notice.legal:
            self.place(paragraph(text, SMALL, 3.4, space_before=1.5))
        self.place(paragraph(word("regards", self.language), TEXT, 4.3, space_before=4))
        self.place(paragraph(notice.seller.name, TEXT, 4.3, space_before=0))

    def finish(self) -> list[Canvas]:
        count = len(self.canvases)
        for number, canvas in enumerate(self.canvases, start=1):
            self._footer(canvas, number, count)
        return self.canvases

    def _address_window(self) -> None:
        seller, recipient = self.notice.seller, self.notice.recipient
        sender = f"{seller.name} · {seller.address.street} · {seller.address.postal_code} "
        self.canvas.text(LEFT, 49, clipped(sender + seller.address.city, SENDER, 85), SENDER)
        self.canvas.line(LEFT, 50.2, LEFT + 85, 50.2, 0.3, RULE)
        address = recipient.address
        lines = [recipient.name, address.street, f"{address.postal_code} {address.city}"]
        if address.country != seller.address.country:
            lines.append(address.country)
        for index, line in enumerate(lines):
            self.canvas.text(LEFT, 58 + index * 4.6, clipped(line, ADDRESS, 85), ADDRESS)

    def _facts(self) -> None:
        notice, language = self.notice, self.language
        facts = [
            (word("number", language), notice.number),
            (word("date", language), texts.day(notice.issue_date, language)),
            (word("customer", language), notice.customer_id),
            (word("level", language), str(notice.level)),
        ]
        if notice.deadline is not None:
            facts.append((word("deadline", language), texts.day(notice.deadline, language)))
        for index, (label, value) in enumerate(facts):
            baseline = 49 + index * 4.3
            self.canvas.text(120, baseline, label, LABEL)
            self.canvas.right(RIGHT, baseline, value, FACT)

    def _header(self, canvas: Canvas, top: float) -> None:
        canvas.rectangle(LEFT, top, RIGHT - LEFT, 6.0, HEADER_FILL)
        for x, key, align in COLUMNS:
            anchor = x + 1.5 if align is Align.LEFT else x - 1.5
            canvas.aligned(anchor, top + 4.1, word(key, self.language), HEADING, align)

    def _row(self, line: NoticeLine) -> Block:
        language = self.language
        label = f"{texts.kind_label(line.kind, language)} {line.document_number or line.item}"
        cells = (
            clipped(label, BODY, 68),
            texts.day(line.due_on, language) if line.due_on else "",
            texts.money(line.amount, language),
            texts.money(line.credited, language),
            texts.money(line.open, language),
        )
        note = word("returned", language, code=line.return_reason) if line.return_reason else None
        height = ROW + (3.3 if note else 0)

        def draw(canvas: Canvas, top: float) -> None:
            for (x, _, align), cell in zip(COLUMNS, cells, strict=True):
                anchor = x + 1.5 if align is Align.LEFT else x - 1.5
                canvas.aligned(anchor, top + 3.6, BODY.font.fit(cell), BODY, align)
            if note:
                canvas.text(LEFT + 1.5, top + 6.9, note, NOTE)
            canvas.line(LEFT, top + height, RIGHT, top + height, 0.25, HAIRLINE)

        return Block(height, draw)

    def _amount_row(self, label: str, amount: str) -> Block:
        def draw(canvas: Canvas, top: float) -> None:
            canvas.text(LEFT + 1.5, top + 3.6, clipped(label, BODY, 110), BODY)
            canvas.right(RIGHT - 1.5, top + 3.6, amount, BODY)
            canvas.line(LEFT, top + ROW, RIGHT, top + ROW, 0.25, HAIRLINE)

        return Block(ROW, draw)

    def _label_row(self, label: str, style: Style, *, before: float = 1.0) -> Block:
        def draw(canvas: Canvas, top: float) -> None:
            canvas.text(LEFT + 1.5, top + before + 3.6, clipped(label, style, 160), style)

        return Block(ROW + before, draw)

    def _total(self, canvas: Canvas, top: float) -> None:
        canvas.line(112, top + 1.5, RIGHT, top + 1.5, 0.6, INK)
        style = bold(10, INK)
        canvas.right(150, top + 6.5, word("total", self.language), style)
        canvas.right(RIGHT - 1.5, top + 6.5, texts.money(self.notice.total, self.language), style)

    def _footer(self, canvas: Canvas, number: int, count: int) -> None:
        seller, language = self.notice.seller, self.language
        page = word("page", language, n=str(number), count=str(count))
        canvas.right(RIGHT, 271.5, page, LABEL)
        canvas.line(LEFT, 274, RIGHT, 274, 0.4, RULE)
        address = seller.address
        columns = (
            (LEFT, [seller.name, address.street, f"{address.postal_code} {address.city}"]),
            (
                82.0,
                [
                    word("managing", language, name=seller.managing_director),
                    seller.trade_register,
                    word("vat_id", language, id=seller.vat_id),
                ],
            ),
            (139.0, [f"IBAN {grouped_iban(seller.iban)}", f"BIC {seller.bic}", seller.email]),
        )
        for x, lines in columns:
            for index, line in enumerate(lines):
                style = FOOTER_BOLD if (x, index) == (LEFT, 0) else FOOTER
                canvas.text(x, 278 + index * 3.2, clipped(line, style, 55), style)


def paragraph(text: str, style: Style, leading: float, *, space_before: float) -> Block:
    lines = wrapped(text, style, RIGHT - LEFT)

    def draw(canvas: Canvas, top: float) -> None:
        for index, line in enumerate(lines, start=1):
            canvas.aligned(LEFT, top + space_before + index * leading, line, style, Align.LEFT)

    return Block(space_before + len(lines) * leading + 1, draw)


def interest_line(detail: InterestDetail, language: Language) -> str:
    """'RE-2026-00000001, 01.07.2026 - 30.07.2026: 119,00 € x 6,27 % (1,27 % + 5) x 30/365'."""
    period = f"{texts.day(detail.start, language)} - {texts.day(detail.end, language)}"
    rate = texts.percent(detail.base_percent + detail.points, language)
    return (
        f"{detail.document_number or detail.item}, {period}: "
        f"{texts.money(detail.principal, language)} {TIMES} {rate} "
        f"({texts.percent(detail.base_percent, language)} + {detail.points.normalize():f}) "
        f"{TIMES} {detail.days}/365 = {texts.precise(detail.amount, language)}"
    )
