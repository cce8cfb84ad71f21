"""The German invoice page by page: letterhead, address window and information block after
DIN 5008 (form B), the lines table with carry-overs across pages, totals, VAT notes, payment and
the footer with the seller's register data on every page.

Measures are millimetres from the top left corner; a y value given to a drawing call is a
baseline unless the name says top.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared.invoicing.model import Invoice, InvoiceLine, Seller, VatGroup
from shared.invoicing.pdf.canvas import Align, Canvas, Color, Style, bold, regular
from shared.money import ZERO, format_eur
from shared.payments.iban import grouped_iban, masked_iban
from shared.periods import Period

LEFT = 25.0
RIGHT = 190.0
CELL_PAD = 1.5
TABLE_BOTTOM = 262.0
BLOCK_BOTTOM = 268.0
CONTINUATION_TOP = 25.0

INK: Color = (0.13, 0.13, 0.13)
MUTED: Color = (0.42, 0.42, 0.42)
ACCENT: Color = (0.05, 0.3, 0.5)
RULE: Color = (0.75, 0.75, 0.75)
HAIRLINE: Color = (0.88, 0.88, 0.88)
HEADER_FILL: Color = (0.91, 0.93, 0.95)
WHITE: Color = (1.0, 1.0, 1.0)

BODY = regular(8.5, INK)
BODY_BOLD = bold(8.5, INK)
HEADING = bold(8, INK)
NOTE = regular(7, MUTED)
LABEL = regular(7.5, MUTED)
FACT = regular(8, INK)
ADDRESS = regular(9.5, INK)
SENDER = regular(6.5, MUTED)
TEXT = regular(9, INK)
LEGAL = regular(7.5, INK)
FOOTER = regular(6.5, MUTED)
FOOTER_BOLD = bold(6.5, INK)

ROW_HEIGHT = 5.0
NOTE_HEIGHT = 3.3
HEADER_HEIGHT = 6.0
DASH = " \N{EN DASH} "
MONTHS = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)
GROUP_LABELS = {
    "AE": "Steuerschuldnerschaft des Leistungsempfängers (AE)",
    "O": "Nicht steuerbar (O)",
    "E": "Steuerfrei (E)",
    "Z": "Nullsatz (Z)",
    "K": "Innergemeinschaftliche Lieferung (K)",
    "G": "Ausfuhrlieferung (G)",
}


@dataclass(frozen=True)
class DirectDebit:
    """A SEPA core direct debit the invoice amount is collected by."""

    mandate_reference: str
    creditor_id: str
    debtor_iban: str | None = None


@dataclass(frozen=True)
class Column:
    x: float
    width: float
    title: str
    align: Align

    @property
    def anchor(self) -> float:
        if self.align is Align.RIGHT:
            return self.x + self.width - CELL_PAD
        return self.x + CELL_PAD


COLUMNS = (
    Column(25, 10, "Pos.", Align.LEFT),
    Column(35, 77, "Leistung", Align.LEFT),
    Column(112, 14, "Menge", Align.RIGHT),
    Column(126, 24, "Einzelpreis", Align.RIGHT),
    Column(150, 14, "USt.", Align.RIGHT),
    Column(164, 26, "Netto", Align.RIGHT),
)
DESCRIPTION = COLUMNS[1]
NET = COLUMNS[-1]


@dataclass(frozen=True)
class Row:
    """An invoice line as the table shows it: cell texts that fit, an optional note below."""

    cells: tuple[str, ...]
    note: str | None
    net: Decimal

    @property
    def height(self) -> float:
        return ROW_HEIGHT + (NOTE_HEIGHT if self.note else 0)


@dataclass(frozen=True)
class Block:
    """Something drawn below the table as a whole; draw gets the top of the block."""

    height: float
    draw: Callable[[Canvas, float], None]


def pages(invoice: Invoice, direct_debit: DirectDebit | None = None) -> list[Canvas]:
    """Every page, drawn."""
    document = Document(invoice)
    document.first_page()
    document.table(rows(invoice))
    document.keep_together(list(closing_blocks(invoice, direct_debit)))
    return document.finish()


class Document:
    def __init__(self, invoice: Invoice) -> None:
        self.invoice = invoice
        self.canvases: list[Canvas] = []
        self.y = 0.0

    @property
    def canvas(self) -> Canvas:
        return self.canvases[-1]

    def first_page(self) -> None:
        self.canvases.append(Canvas())
        canvas, invoice = self.canvas, self.invoice
        folding_marks(canvas)
        letterhead(canvas, invoice.seller)
        address_window(canvas, invoice)
        information_block(canvas, invoice)
        self.y = title(canvas, invoice)

    def next_page(self) -> None:
        self.canvases.append(Canvas())
        continuation_header(self.canvas, self.invoice)
        self.y = CONTINUATION_TOP

    def table(self, table_rows: list[Row]) -> None:
        carried = ZERO
        self.y = table_header(self.canvas, self.y)
        for row in table_rows:
            if self.y + row.height > TABLE_BOTTOM:
                carry_over(self.canvas, self.y, "Übertrag", carried, BODY_BOLD)
                self.next_page()
                self.y = table_header(self.canvas, self.y)
                label = f"Übertrag von Seite {len(self.canvases) - 1}"
                self.y = carry_over(self.canvas, self.y, label, carried, BODY)
            self.y = table_row(self.canvas, self.y, row)
            carried += row.net

    def keep_together(self, blocks: list[Block]) -> None:
        """The blocks on one page: this one if they fit below the table, else the next."""
        height = sum(block.height for block in blocks)
        if self.y + height > BLOCK_BOTTOM and CONTINUATION_TOP + height <= BLOCK_BOTTOM:
            self.next_page()
        for block in blocks:
            self.place(block)

    def place(self, block: Block) -> None:
        if self.y + block.height > BLOCK_BOTTOM:
            self.next_page()
        block.draw(self.canvas, self.y)
        self.y += block.height

    def finish(self) -> list[Canvas]:
        count = len(self.canvases)
        for number, canvas in enumerate(self.canvases, start=1):
            footer(canvas, self.invoice.seller, number, count)
        return self.canvases


def folding_marks(canvas: Canvas) -> None:
    """Fold marks at 105 and 210 mm and the punch mark at the middle of the page's height."""
    for y, length in ((105.0, 4.0), (148.5, 6.0), (210.0, 4.0)):
        canvas.line(4, y, 4 + length, y, 0.3, RULE)


def letterhead(canvas: Canvas, seller: Seller) -> None:
    """A logo mark with the seller's initials, the name, and how to reach the seller."""
    canvas.rectangle(LEFT, 12, 13, 13, ACCENT)
    mark = bold(13, WHITE)
    canvas.aligned(LEFT + 6.5, 20.8, mark.font.fit(initials(seller.name)), mark, Align.CENTER)
    name = bold(14, INK)
    canvas.text(LEFT + 17, 17.6, clipped(seller.name, name, 100), name)
    address = seller.address
    canvas.text(LEFT + 17, 23.2, f"{address.street} · {address.postal_code} {address.city}", LABEL)
    canvas.right(RIGHT, 17.6, seller.email, LABEL)
    canvas.right(RIGHT, 23.2, f"USt-IdNr. {seller.vat_id}", LABEL)
    canvas.line(LEFT, 30, RIGHT, 30, 1, ACCENT)


def initials(name: str) -> str:
    letters = [word[0] for word in name.split() if word[:1].isalnum()]
    return "".join(letters[:2]).upper() or "?"


def address_window(canvas: Canvas, invoice: Invoice) -> None:
    """The sender line and the recipient in the window of a DL envelope."""
    seller = invoice.seller
    sender = f"{seller.name} · {seller.address.street} · {seller.address.postal_code} "
    canvas.text(LEFT, 49, clipped(sender + seller.address.city, SENDER, 85), SENDER)
    canvas.line(LEFT, 50.2, LEFT + 85, 50.2, 0.3, RULE)

    buyer = invoice.draft.buyer
    lines = [buyer.name, buyer.address.street, f"{buyer.address.postal_code} {buyer.address.city}"]
    if buyer.address.country != invoice.seller.address.country:
        lines.append(buyer.address.country)
    for index, line in enumerate(lines):
        canvas.text(LEFT, 58 + index * 4.6, clipped(line, ADDRESS, 85), ADDRESS)


def information_block(canvas: Canvas, invoice: Invoice) -> None:
    for index, (label, value) in enumerate(facts(invoice)):
        baseline = 49 + index * 4.3
        canvas.text(120, baseline, label, LABEL)
        canvas.right(RIGHT, baseline, value, FACT)


def facts(invoice: Invoice) -> list[tuple[str, str]]:
    draft = invoice.draft
    listed = [
        (f"{invoice.title}snummer", invoice.number),
        (f"{invoice.title}sdatum", german_date(invoice.issue_date)),
        ("Kundennummer", draft.buyer.customer_id),
    ]
    if draft.buyer.vat_id:
        listed.append(("Ihre USt-IdNr.", draft.buyer.vat_id))
    listed.append(("Abrechnungsmonat", month_name(draft.period)))
    listed.append(("Leistungszeitraum", service_period(draft.lines)))
    if invoice.correction is not None:
        original = invoice.correction
        listed.append(("Storno zu", f"{original.refers_to} vom {original.refers_to_date:%d.%m.%Y}"))
    else:
        listed.append(("Fällig am", german_date(invoice.due_date)))
    return listed


def title(canvas: Canvas, invoice: Invoice) -> float:
    """The document title and its opening sentence; the y where the table starts."""
    canvas.text(LEFT, 100, f"{invoice.title} {invoice.number}", bold(13, INK))
    if invoice.correction is None:
        text = (
            f"Für den Abrechnungsmonat {month_name(invoice.draft.period)} stellen wir Ihnen "
            "folgende Leistungen in Rechnung:"
        )
    else:
        original = invoice.correction
        text = (
            f"Hiermit stornieren wir die Rechnung {original.refers_to} vom "
            f"{original.refers_to_date:%d.%m.%Y} vollständig. Grund: {original.reason}"
        )
    lines = wrapped(text, TEXT, RIGHT - LEFT)
    for index, line in enumerate(lines):
        canvas.aligned(LEFT, 107 + index * 4.3, line, TEXT, Align.LEFT)
    return 107 + len(lines) * 4.3


def continuation_header(canvas: Canvas, invoice: Invoice) -> None:
    name = bold(9, INK)
    canvas.text(LEFT, 15, clipped(invoice.seller.name, name, 60), name)
    reference = (
        f"{invoice.title} {invoice.number} · Kundennummer {invoice.customer_id} · "
        f"{german_date(invoice.issue_date)}"
    )
    canvas.right(RIGHT, 15, reference, LABEL)
    canvas.line(LEFT, 18, RIGHT, 18, 0.6, ACCENT)


def table_header(canvas: Canvas, top: float) -> float:
    canvas.rectangle(LEFT, top, RIGHT - LEFT, HEADER_HEIGHT, HEADER_FILL)
    for column in COLUMNS:
        canvas.aligned(column.anchor, top + 4.1, column.title, HEADING, column.align)
    return top + HEADER_HEIGHT


def table_row(canvas: Canvas, top: float, row: Row) -> float:
    baseline = top + 3.6
    for column, cell in zip(COLUMNS, row.cells, strict=True):
        canvas.aligned(column.anchor, baseline, cell, BODY, column.align)
    if row.note:
        canvas.aligned(DESCRIPTION.anchor, baseline + NOTE_HEIGHT, row.note, NOTE, Align.LEFT)
    bottom = top + row.height
    canvas.line(LEFT, bottom, RIGHT, bottom, 0.25, HAIRLINE)
    return bottom


def carry_over(canvas: Canvas, top: float, label: str, amount: Decimal, style: Style) -> float:
    canvas.text(DESCRIPTION.anchor, top + 3.8, label, style)
    canvas.right(NET.anchor, top + 3.8, format_eur(amount), style)
    bottom = top + ROW_HEIGHT + 0.5
    canvas.line(LEFT, bottom, RIGHT, bottom, 0.4, RULE)
    return bottom


def rows(invoice: Invoice) -> list[Row]:
    month = Period.parse(invoice.draft.period)
    return [
        table_line(position, line, month) for position, line in enumerate(invoice.draft.lines, 1)
    ]


def table_line(position: int, line: InvoiceLine, month: Period) -> Row:
    description = clipped(line.description, BODY, DESCRIPTION.width - 2 * CELL_PAD)
    cells = (
        str(position),
        description,
        str(line.quantity),
        unit_price(line.unit_net),
        tax_column(line),
        format_eur(line.net),
    )
    own_period = (line.service_start, line.service_end) != (month.start, month.end)
    return Row(cells, service_note(line) if own_period else None, line.net)


def service_note(line: InvoiceLine) -> str:
    """The line's own service period, and its share of the cycle when it is prorated."""
    text = f"Leistungszeitraum {line.service_start:%d.%m.%Y}{DASH}{line.service_end:%d.%m.%Y}"
    if line.prorated:
        text += f", anteilig {line.service_days} von {line.cycle_days} Tagen"
    return text


def closing_blocks(invoice: Invoice, direct_debit: DirectDebit | None) -> Iterator[Block]:
    yield totals_block(invoice)
    if invoice.draft.notes:
        yield paragraph_block(" ".join(invoice.draft.notes), LEGAL, 3.5, space_before=3)
    yield paragraph_block(payment_text(invoice, direct_debit), TEXT, 4.3, space_before=4)
    if invoice.correction is None:
        yield paragraph_block("Vielen Dank für Ihr Vertrauen.", TEXT, 4.3, space_before=2)


def totals_block(invoice: Invoice) -> Block:
    draft = invoice.draft
    entries = [("Summe netto", draft.net)]
    entries += [(f"{group_label(g)} auf {format_eur(g.net)}", g.vat) for g in draft.vat_groups]

    def draw(canvas: Canvas, top: float) -> None:
        baseline = top + 6
        for label, amount in entries:
            canvas.right(NET.x - 4, baseline, label, BODY)
            canvas.right(NET.anchor, baseline, format_eur(amount), BODY)
            baseline += 4.6
        canvas.line(112, baseline - 2.6, RIGHT, baseline - 2.6, 0.6, INK)
        gross = bold(10, INK)
        canvas.right(NET.x - 4, baseline + 2.4, "Rechnungsbetrag", gross)
        canvas.right(NET.anchor, baseline + 2.4, format_eur(draft.gross), gross)

    return Block(6 + len(entries) * 4.6 + 5, draw)


def paragraph_block(text: str, style: Style, leading: float, *, space_before: float) -> Block:
    lines = wrapped(text, style, RIGHT - LEFT)

    def draw(canvas: Canvas, top: float) -> None:
        for index, line in enumerate(lines, start=1):
            canvas.aligned(LEFT, top + space_before + index * leading, line, style, Align.LEFT)

    return Block(space_before + len(lines) * leading + 1, draw)


def payment_text(invoice: Invoice, direct_debit: DirectDebit | None) -> str:
    gross = format_eur(invoice.draft.gross).replace(" ", "\u00a0")
    if invoice.correction is not None:
        return (
            f"Diese Stornorechnung hebt die Rechnung {invoice.correction.refers_to} auf. "
            "Bereits gezahlte Beträge schreiben wir Ihrem Kundenkonto gut."
        )
    if invoice.draft.gross < 0:
        return f"Den Betrag von {gross} schreiben wir Ihrem Kundenkonto gut."
    if invoice.draft.gross == 0:
        return "Es ist nichts zu zahlen."
    if direct_debit is not None:
        return direct_debit_text(invoice, direct_debit, gross)
    seller = invoice.seller
    return (
        f"Bitte überweisen Sie den Rechnungsbetrag von {gross} bis zum "
        f"{german_date(invoice.due_date)} unter Angabe der Rechnungsnummer {invoice.number} "
        f"auf unser Konto IBAN {grouped_iban(seller.iban)}, BIC {seller.bic}."
    )


def direct_debit_text(invoice: Invoice, debit: DirectDebit, gross: str) -> str:
    account = f" von Ihrem Konto IBAN {masked_iban(debit.debtor_iban)}" if debit.debtor_iban else ""
    return (
        f"Den Rechnungsbetrag von {gross} ziehen wir am {german_date(invoice.due_date)} "
        f"per SEPA-Lastschrift{account} ein. Mandatsreferenz: {debit.mandate_reference}, "
        f"Gläubiger-Identifikationsnummer: {debit.creditor_id}. Bitte sorgen Sie für "
        "ausreichende Deckung."
    )


def footer(canvas: Canvas, seller: Seller, number: int, count: int) -> None:
    canvas.right(RIGHT, 271.5, f"Seite {number} von {count}", LABEL)
    canvas.line(LEFT, 274, RIGHT, 274, 0.4, RULE)
    address = seller.address
    columns = (
        (LEFT, [seller.name, address.street, f"{address.postal_code} {address.city}"]),
        (
            82.0,
            [
                f"Geschäftsführung: {seller.managing_director}",
                seller.trade_register,
                f"USt-IdNr.: {seller.vat_id}",
            ],
        ),
        (139.0, [f"IBAN {grouped_iban(seller.iban)}", f"BIC {seller.bic}", seller.email]),
    )
    for x, lines in columns:
        for index, line in enumerate(lines):
            style = FOOTER_BOLD if (x, index) == (LEFT, 0) else FOOTER
            canvas.text(x, 278 + index * 3.2, clipped(line, style, 55), style)


def wrapped(text: str, style: Style, width: float) -> list[str]:
    """Lines of whole words that fit the width; a word longer than the width is clipped."""
    space = style.width(" ")
    lines: list[str] = []
    words: list[str] = []
    used = 0.0
    for word in style.font.fit(text).split(" "):
        word_width = style.width(word)
        if words and used + space + word_width > width:
            lines.append(clipped(" ".join(words), style, width))
            words, used = [], 0.0
        used += word_width + (space if words else 0.0)
        words.append(word)
    lines.append(clipped(" ".join(words), style, width))
    return lines


def clipped(text: str, style: Style, width: float) -> str:
    """The text, fitted to the font and shortened with an ellipsis where it is wider."""
    fitted = style.font.fit(text)
    if style.width(fitted) <= width:
        return fitted
    while fitted and style.width(fitted + "…") > width:
        fitted = fitted[:-1]
    return fitted.rstrip() + "…"


def group_label(group: VatGroup) -> str:
    if group.category_code == "S":
        return f"USt. {percent(group.rate)}"
    return GROUP_LABELS.get(group.category_code, group.category_code)


def tax_column(line: InvoiceLine) -> str:
    return percent(line.tax_rate) if line.tax_code == "S" else line.tax_code


def percent(rate: Decimal) -> str:
    return f"{rate.normalize():f} %".replace(".", ",")


def unit_price(amount: Decimal) -> str:
    """Unit prices keep up to four decimals, so quantity times price is what the line shows."""
    if amount == amount.quantize(Decimal("0.01")):
        return format_eur(amount)
    sign = "-" if amount < 0 else ""
    whole, _, fraction = f"{abs(amount).normalize():f}".partition(".")
    return f"{sign}{int(whole):,}".replace(",", ".") + f",{fraction} €"


def service_period(lines: tuple[InvoiceLine, ...]) -> str:
    start = min(line.service_start for line in lines)
    end = max(line.service_end for line in lines)
    return f"{start:%d.%m.%Y}{DASH}{end:%d.%m.%Y}"


def month_name(period: str) -> str:
    month = Period.parse(period)
    return f"{MONTHS[month.start.month - 1]} {month.start.year}"


def german_date(day: date) -> str:
    return f"{day:%d.%m.%Y}"
