"""A small PDF/A-3b writer: pages of text, lines and rectangles in the two embedded fonts, an sRGB
output intent, XMP metadata and one XML attachment.

What every document shares (the font dictionaries with their widths and ToUnicode maps, the ICC
profile, the output intent, the page resources) is serialized once per process as the first
objects of the file, so a document costs its page contents, its two font programs cut to the
glyphs it shows (kept for the next document that shows the same), its metadata and its
attachment. The file is written front to back with a
classic cross-reference table; nothing in it depends on the clock, the process or the machine.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

from shared.invoicing.pdf import fonts
from shared.invoicing.pdf.canvas import A4_HEIGHT, A4_WIDTH, Canvas
from shared.invoicing.pdf.fonts import EmbeddedFont

HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
ICC_FILE = "sRGB2014.icc"
OUTPUT_CONDITION = "sRGB IEC61966-2.1"
PRODUCER = "mass-billing PDF/A-3 writer"
CONTENT_LEVEL = 6
FONT_PROGRAMS_KEPT = 512

_font_programs: OrderedDict[tuple[str, frozenset[str]], bytes] = OrderedDict()
_font_programs_lock = threading.Lock()


@dataclass(frozen=True)
class EmbeddedXml:
    filename: str
    data: bytes
    description: str
    relationship: str
    modified: date


@dataclass(frozen=True)
class DocumentInfo:
    """The Info dictionary; the XMP packet the caller builds must say the same."""

    title: str
    author: str
    subject: str
    creator: str
    created: date
    file_id: bytes


@dataclass(frozen=True)
class _Shared:
    """The serialized shared objects; the font programs' numbers are taken but left to write."""

    prefix: bytes
    offsets: tuple[int | None, ...]
    resources: int
    output_intent: int
    programs: tuple[tuple[int, str, EmbeddedFont], ...]


def write_pdf(
    pages: Sequence[Canvas],
    info: DocumentInfo,
    xmp: bytes,
    attachment: EmbeddedXml | None,
    *,
    language: str = "de-DE",
) -> bytes:
    """The whole file: the shared objects, then the document's own, then the xref table."""
    shared = shared_objects()
    objects = _Objects(shared)
    catalog = objects.reserve()
    page_tree = objects.reserve()

    kids = [_add_page(objects, page_tree, shared.resources, page.content()) for page in pages]
    objects.put(page_tree, _page_tree(kids))
    for number, resource, font in shared.programs:
        shown = set().union(*(page.shown[resource] for page in pages))
        objects.put(number, _font_program(font, shown))
    metadata = objects.add(_stream(b"/Type /Metadata /Subtype /XML", xmp))
    attached = (attachment.filename, _add_attachment(objects, attachment)) if attachment else None
    objects.put(catalog, _catalog(page_tree, metadata, shared.output_intent, attached, language))
    info_object = objects.add(_info(info).encode("ascii"))
    return objects.finish(catalog, info_object, info.file_id)


def text_string(text: str) -> str:
    """A PDF text string: literal for printable ASCII, UTF-16BE with byte order mark otherwise."""
    if text.isascii() and text.isprintable():
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return f"({escaped})"
    return f"<FEFF{text.encode('utf-16-be').hex().upper()}>"


def pdf_date(day: date) -> str:
    return f"(D:{day:%Y%m%d}000000+00'00')"


def compress(data: bytes, level: int = CONTENT_LEVEL) -> bytes:
    return zlib.compress(data, level)


class _Objects:
    """Numbered objects appended after the shared prefix, with their byte offsets."""

    def __init__(self, shared: _Shared) -> None:
        self._chunks = [shared.prefix]
        self._size = len(shared.prefix)
        self._offsets = {n: at for n, at in enumerate(shared.offsets, 1) if at is not None}
        self._next = len(shared.offsets) + 1

    def reserve(self) -> int:
        number = self._next
        self._next += 1
        return number

    def add(self, body: bytes) -> int:
        number = self.reserve()
        self.put(number, body)
        return number

    def put(self, number: int, body: bytes) -> None:
        chunk = b"%d 0 obj\n%b\nendobj\n" % (number, body)
        self._offsets[number] = self._size
        self._chunks.append(chunk)
        self._size += len(chunk)

    def finish(self, root: int, info: int, file_id: bytes) -> bytes:
        count = self._next
        rows = "".join(f"{self._offsets[n]:010d} 00000 n \n" for n in range(1, count))
        identifier = file_id.hex().upper()
        tail = (
            f"xref\n0 {count}\n0000000000 65535 f \n{rows}"
            f"trailer\n<< /Size {count} /Root {root} 0 R /Info {info} 0 R "
            f"/ID [<{identifier}> <{identifier}>] >>\nstartxref\n{self._size}\n%%EOF\n"
        )
        self._chunks.append(tail.encode("ascii"))
        return b"".join(self._chunks)


def _stream(entries: bytes, data: bytes) -> bytes:
    return b"<< %b /Length %d >>\nstream\n%b\nendstream" % (entries, len(data), data)


def _flate_stream(entries: bytes, data: bytes, level: int = CONTENT_LEVEL) -> bytes:
    return _stream(
        b" ".join(filter(None, (entries, b"/Filter /FlateDecode"))), compress(data, level)
    )


def _add_page(objects: _Objects, parent: int, resources_object: int, content: bytes) -> int:
    contents = objects.add(_flate_stream(b"", content))
    page = (
        f"<< /Type /Page /Parent {parent} 0 R /MediaBox [0 0 {A4_WIDTH} {A4_HEIGHT}] "
        f"/Resources {resources_object} 0 R /Contents {contents} 0 R >>"
    )
    return objects.add(page.encode("ascii"))


def _page_tree(kids: list[int]) -> bytes:
    references = " ".join(f"{kid} 0 R" for kid in kids)
    return f"<< /Type /Pages /Kids [{references}] /Count {len(kids)} >>".encode("ascii")


def _add_attachment(objects: _Objects, attachment: EmbeddedXml) -> int:
    checksum = hashlib.md5(attachment.data, usedforsecurity=False).hexdigest().upper()
    params = (
        f"/Type /EmbeddedFile /Subtype /text#2Fxml /Params << /ModDate "
        f"{pdf_date(attachment.modified)} /Size {len(attachment.data)} /CheckSum <{checksum}> >>"
    )
    embedded = objects.add(_flate_stream(params.encode("ascii"), attachment.data))
    name = text_string(attachment.filename)
    spec = (
        f"<< /Type /Filespec /F {name} /UF {name} /Desc {text_string(attachment.description)} "
        f"/AFRelationship /{attachment.relationship} "
        f"/EF << /F {embedded} 0 R /UF {embedded} 0 R >> >>"
    )
    return objects.add(spec.encode("ascii"))


def _catalog(
    pages: int,
    metadata: int,
    output_intent: int,
    attached: tuple[str, int] | None,
    language: str = "de-DE",
) -> bytes:
    entries = [
        f"/Type /Catalog /Pages {pages} 0 R /Metadata {metadata} 0 R",
        f"/OutputIntents [{output_intent} 0 R] /Lang {text_string(language)}",
        "/ViewerPreferences << /DisplayDocTitle true >>",
    ]
    if attached is not None:
        name, file_spec = attached
        entries.append(
            f"/Names << /EmbeddedFiles << /Names [{text_string(name)} {file_spec} 0 R] >> >>"
            f" /AF [{file_spec} 0 R]"
        )
    return ("<< " + " ".join(entries) + " >>").encode("ascii")


def _info(info: DocumentInfo) -> str:
    return (
        f"<< /Title {text_string(info.title)} /Author {text_string(info.author)} "
        f"/Subject {text_string(info.subject)} /Creator {text_string(info.creator)} "
        f"/Producer {text_string(PRODUCER)} /CreationDate {pdf_date(info.created)} "
        f"/ModDate {pdf_date(info.created)} >>"
    )


@cache
def shared_objects() -> _Shared:
    """Both fonts (five objects each), the ICC profile, the output intent and the page resources
    that name the fonts F1 and F2, serialized after the file header."""
    prefix = _Prefix()
    regular, bold = fonts.regular(), fonts.bold()
    regular_font, regular_program = _add_font(prefix, regular)
    bold_font, bold_program = _add_font(prefix, bold)
    profile = resources.files("shared.data").joinpath(ICC_FILE).read_bytes()
    icc = prefix.add(_flate_stream(b"/N 3", profile, 9))
    intent = prefix.add(_output_intent(icc))
    page_resources = f"<< /Font << /F1 {regular_font} 0 R /F2 {bold_font} 0 R >> >>"
    resources_object = prefix.add(page_resources.encode("ascii"))
    programs = ((regular_program, "F1", regular), (bold_program, "F2", bold))
    return _Shared(
        b"".join(prefix.chunks), tuple(prefix.offsets), resources_object, intent, programs
    )


class _Prefix:
    def __init__(self) -> None:
        self.chunks = [HEADER]
        self.offsets: list[int | None] = []
        self._size = len(HEADER)

    @property
    def next_number(self) -> int:
        return len(self.offsets) + 1

    def add(self, body: bytes) -> int:
        number = self.next_number
        chunk = b"%d 0 obj\n%b\nendobj\n" % (number, body)
        self.offsets.append(self._size)
        self.chunks.append(chunk)
        self._size += len(chunk)
        return number

    def leave(self) -> int:
        """A number for an object each document writes itself."""
        self.offsets.append(None)
        return len(self.offsets)


def _output_intent(icc: int) -> bytes:
    condition = text_string(OUTPUT_CONDITION)
    return (
        f"<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier {condition} "
        f"/Info {condition} /RegistryName (http://www.color.org) /DestOutputProfile {icc} 0 R >>"
    ).encode("ascii")


def _add_font(prefix: _Prefix, font: EmbeddedFont) -> tuple[int, int]:
    """The Type0 font, its CIDFont, descriptor and ToUnicode map; the number of the Type0 font
    and the one left for the font program."""
    type0 = prefix.next_number
    cid_font, descriptor, to_unicode, program = type0 + 1, type0 + 2, type0 + 3, type0 + 4
    widths = " ".join(str(width) for width in font.glyph_widths)
    bodies = [
        f"<< /Type /Font /Subtype /Type0 /BaseFont /{font.base_name} /Encoding /Identity-H "
        f"/DescendantFonts [{cid_font} 0 R] /ToUnicode {to_unicode} 0 R >>",
        f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{font.base_name} "
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        f"/FontDescriptor {descriptor} 0 R /DW {font.glyph_widths[0]} /W [0 [{widths}]] "
        "/CIDToGIDMap /Identity >>",
        f"<< {font.descriptor} /FontFile2 {program} 0 R >>",
    ]
    for body in bodies:
        prefix.add(body.encode("ascii"))
    prefix.add(_flate_stream(b"", font.to_unicode, 9))
    return type0, prefix.leave()


def _font_program(font: EmbeddedFont, shown: set[str]) -> bytes:
    """The font program cut to ``shown``, kept for documents that show the same characters: in
    a run of 2,000 invoices nine in ten font programs repeat an earlier one."""
    key = (font.base_name, frozenset(shown))
    with _font_programs_lock:
        stream = _font_programs.get(key)
        if stream is not None:
            _font_programs.move_to_end(key)
            return stream

    deflated, length = font.program.deflated(font.glyph_ids[character] for character in shown)
    stream = _stream(f"/Length1 {length} /Filter /FlateDecode".encode("ascii"), deflated)
    with _font_programs_lock:
        _font_programs[key] = stream
        if len(_font_programs) > FONT_PROGRAMS_KEPT:
            _font_programs.popitem(last=False)
    return stream
