"""The embedded fonts: DejaVu Sans and DejaVu Sans Bold, pre-subset to Latin (shared/data/fonts).

Each font is read once per process and embedded as a CIDFontType2 with Identity-H encoding and
an identity CID-to-glyph map, so a text string is the sequence of its glyph ids. Widths and the
ToUnicode map cover the whole font and are the same bytes in every document; only the font
program is cut to the glyphs a document shows (``truetype``).
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from fontTools.ttLib import TTFont

from shared.invoicing.pdf.truetype import FontProgram

REGULAR_FILE = "DejaVuSans-Latin.ttf"
BOLD_FILE = "DejaVuSans-Bold-Latin.ttf"
# Subset fonts carry a six-letter tag before their name (PDF 32000-1, 9.6.4).
SUBSET_TAGS = {REGULAR_FILE: "BILLRG", BOLD_FILE: "BILLBD"}
SYMBOLIC = 4
BFCHAR_BLOCK = 100

# Signs the font lacks and Unicode does not decompose, in their nearest readable form.
_SUBSTITUTES = {
    "\u00ad": "-",  # soft hyphen
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2015": "\u2014",
    "\u201b": "'",
    "\u201f": '"',
    "\u2032": "'",
    "\u2033": '"',
    "\t": " ",
    "\n": " ",
    "\r": " ",
}


@dataclass(frozen=True)
class EmbeddedFont:
    """A font as the PDF writer needs it: glyph ids and widths per character, fixed objects."""

    base_name: str
    characters: frozenset[str]
    glyph_ids: dict[str, int]
    glyph_hex: dict[str, str]
    widths: dict[str, int]
    program: FontProgram
    glyph_widths: tuple[int, ...]
    to_unicode: bytes
    descriptor: str

    def fit(self, text: str) -> str:
        """The text with every character the font lacks replaced by one it has (or "?")."""
        if self.characters.issuperset(text):
            return text
        return "".join(self._fallback(character) for character in text)

    def encode(self, text: str) -> str:
        """Hex glyph ids of a text that fits the font."""
        return "".join(map(self.glyph_hex.__getitem__, text))

    def width(self, text: str, size: float) -> float:
        """Advance width in points of a text that fits the font."""
        return sum(map(self.widths.__getitem__, text)) * size / 1000

    def _fallback(self, character: str) -> str:
        if character in self.characters:
            return character
        substitute = _SUBSTITUTES.get(character)
        if substitute is not None:
            return substitute
        decomposed = unicodedata.normalize("NFKD", character)
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        if base and self.characters.issuperset(base):
            return base
        return "?"


@cache
def regular() -> EmbeddedFont:
    return load(REGULAR_FILE)


@cache
def bold() -> EmbeddedFont:
    return load(BOLD_FILE)


def font_bytes(file_name: str) -> bytes:
    return resources.files("shared.data").joinpath("fonts", file_name).read_bytes()


def load(file_name: str) -> EmbeddedFont:
    program = font_bytes(file_name)
    font = TTFont(io.BytesIO(program), lazy=True)
    scale = 1000 / font["head"].unitsPerEm
    order = font.getGlyphOrder()
    metrics = font["hmtx"].metrics
    glyph_widths = tuple(round(metrics[name][0] * scale) for name in order)
    glyph_ids = {name: gid for gid, name in enumerate(order)}
    cmap = {chr(code): glyph_ids[name] for code, name in font.getBestCmap().items()}
    base_name = f"{SUBSET_TAGS[file_name]}+{font['name'].getDebugName(6)}"
    return EmbeddedFont(
        base_name=base_name,
        characters=frozenset(cmap),
        glyph_ids=cmap,
        glyph_hex={character: f"{gid:04X}" for character, gid in cmap.items()},
        widths={character: glyph_widths[gid] for character, gid in cmap.items()},
        program=FontProgram.of(program, font),
        glyph_widths=glyph_widths,
        to_unicode=_to_unicode(cmap),
        descriptor=_descriptor(font, base_name, scale),
    )


def _descriptor(font: TTFont, base_name: str, scale: float) -> str:
    """The FontDescriptor entries but /FontFile2, which the writer adds with its object number."""
    head, hhea = font["head"], font["hhea"]
    bbox = " ".join(str(round(v * scale)) for v in (head.xMin, head.yMin, head.xMax, head.yMax))
    cap_height = font["glyf"]["H"].yMax
    weight = font["OS/2"].usWeightClass
    return (
        f"/Type /FontDescriptor /FontName /{base_name} /Flags {SYMBOLIC} /FontBBox [{bbox}] "
        f"/ItalicAngle {round(font['post'].italicAngle)} /Ascent {round(hhea.ascent * scale)} "
        f"/Descent {round(hhea.descent * scale)} /CapHeight {round(cap_height * scale)} "
        f"/StemV {50 + round((weight / 65) ** 2)}"
    )


def _to_unicode(cmap: dict[str, int]) -> bytes:
    """A ToUnicode CMap from glyph id to character; a glyph of several characters takes the
    lowest, so text extraction gives the plain letter."""
    first_character: dict[int, str] = {}
    for character, gid in sorted(cmap.items()):
        first_character.setdefault(gid, character)
    pairs = [f"<{gid:04X}> <{ord(c):04X}>" for gid, c in sorted(first_character.items())]
    blocks = [pairs[i : i + BFCHAR_BLOCK] for i in range(0, len(pairs), BFCHAR_BLOCK)]
    body = "".join(
        f"{len(block)} beginbfchar\n" + "\n".join(block) + "\nendbfchar\n" for block in blocks
    )
    text = (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{body}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    )
    return text.encode("ascii")
