"""A TrueType font program cut per document to the glyphs the document shows, deflated.

Glyphs no page uses keep their id but lose their outline (an empty entry in ``glyf``), so the
widths, the ToUnicode map and the identity CID-to-glyph map stay the same bytes in every
document, and only ``glyf``, ``loca`` and ``head`` are written anew. Composite glyphs (most
accented letters) bring the glyphs they are made of.

The file puts the tables every document shares (``name`` with the licence, ``hmtx``, ``cmap``
and the rest) right after the table directory and the cut tables last. The shared tables are
deflated once per process into a segment that ends on a byte boundary (a sync flush); a
document deflates only its directory and its cut tables and joins the three segments into one
zlib stream. Measured on the Latin DejaVu Sans shipped here, for a typical invoice: the
compressed program shrinks from 15.3 KB to 7.5 KB and the document from 49.5 KB to 32 KB;
deflating the whole cut program per document cost 0.35 to 0.4 ms a font, deflating only its
own part costs about a third of that.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from fontTools.ttLib import TTFont

LONG_OFFSETS = 1
CHECKSUM_MAGIC = 0xB1B0AFBA
CUT_TABLES = (b"glyf", b"head", b"loca")
LEVEL = 6
ZLIB_HEADER = b"\x78\x9c"


@dataclass(frozen=True)
class Table:
    """A table as the sfnt file holds it: padded to four bytes, with its length and checksum."""

    padded: bytes
    length: int
    checksum: int

    @classmethod
    def of(cls, data: bytes) -> Table:
        padded = data + b"\0" * (-len(data) % 4)
        return cls(padded, len(data), _checksum(padded))


@dataclass(frozen=True)
class FontProgram:
    shared_tables: dict[bytes, Table]
    shared_bytes: bytes
    shared_deflated: bytes
    head: bytes
    glyphs: tuple[bytes, ...]
    components: dict[int, frozenset[int]]

    @classmethod
    def of(cls, program: bytes, font: TTFont) -> FontProgram:
        tables = _tables(program)
        head = tables[b"head"]
        short = struct.unpack(">h", head[50:52])[0] == 0
        count = len(font.getGlyphOrder())
        offsets = _offsets(tables[b"loca"], count, short=short)
        glyf = tables[b"glyf"]
        glyphs = tuple(glyf[offsets[i] : offsets[i + 1]] for i in range(count))
        shared = {tag: Table.of(data) for tag, data in sorted(tables.items())}
        shared = {tag: table for tag, table in shared.items() if tag not in CUT_TABLES}
        shared_bytes = b"".join(table.padded for table in shared.values())
        deflated = _raw_deflate(shared_bytes, zlib.Z_SYNC_FLUSH)
        return cls(shared, shared_bytes, deflated, head, glyphs, _components(font))

    def deflated(self, shown: Iterable[int]) -> tuple[bytes, int]:
        """The program with outlines only for the shown glyph ids, .notdef and their parts, as
        a zlib stream, and its length uncompressed."""
        cut = self._cut_tables(self._wanted(shown))
        directory = self._directory(cut)
        tables = [*self.shared_tables.values(), *cut.values()]
        total = _checksum(directory) + sum(table.checksum for table in tables)
        adjustment = struct.pack(">I", (CHECKSUM_MAGIC - total) & 0xFFFFFFFF)
        head = cut[b"head"].padded
        own = head[:8] + adjustment + head[12:] + cut[b"loca"].padded + cut[b"glyf"].padded
        checksum = zlib.adler32(own, zlib.adler32(self.shared_bytes, zlib.adler32(directory)))
        stream = b"".join(
            (
                ZLIB_HEADER,
                _raw_deflate(directory, zlib.Z_SYNC_FLUSH),
                self.shared_deflated,
                _raw_deflate(own, zlib.Z_FINISH),
                struct.pack(">I", checksum),
            )
        )
        return stream, len(directory) + len(self.shared_bytes) + len(own)

    def _wanted(self, shown: Iterable[int]) -> set[int]:
        wanted = {0}
        for gid in shown:
            wanted.add(gid)
            wanted |= self.components.get(gid, frozenset())
        return wanted

    def _cut_tables(self, wanted: set[int]) -> dict[bytes, Table]:
        parts: list[bytes] = []
        offsets = [0]
        position = 0
        for gid, outline in enumerate(self.glyphs):
            if gid in wanted and outline:
                padded = outline + b"\0" * (-len(outline) % 4)
                parts.append(padded)
                position += len(padded)
            offsets.append(position)
        loca = struct.pack(f">{len(offsets)}I", *offsets)
        head = self.head[:8] + b"\0\0\0\0" + self.head[12:50] + struct.pack(">h", LONG_OFFSETS)
        head += self.head[52:]
        glyf = b"".join(parts)
        return {b"head": Table.of(head), b"loca": Table.of(loca), b"glyf": Table.of(glyf)}

    def _directory(self, cut: dict[bytes, Table]) -> bytes:
        """The sfnt header and table records sorted by tag, for the data in file order: shared
        tables first, then head, loca and glyf."""
        in_file_order = [*self.shared_tables.items(), *cut.items()]
        count = len(in_file_order)
        power = 1 << (count.bit_length() - 1)
        header = struct.pack(
            ">IHHHH", 0x00010000, count, power * 16, power.bit_length() - 1, (count - power) * 16
        )
        offset = len(header) + 16 * count
        records = {}
        for tag, table in in_file_order:
            records[tag] = struct.pack(">4sIII", tag, table.checksum, offset, table.length)
            offset += len(table.padded)
        return header + b"".join(records[tag] for tag in sorted(records))


def _raw_deflate(data: bytes, mode: int) -> bytes:
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(mode)


def _tables(program: bytes) -> dict[bytes, bytes]:
    (count,) = struct.unpack(">H", program[4:6])
    tables = {}
    for index in range(count):
        entry = program[12 + 16 * index : 28 + 16 * index]
        tag, _, offset, length = struct.unpack(">4sIII", entry)
        tables[tag] = program[offset : offset + length]
    return tables


def _offsets(loca: bytes, count: int, *, short: bool) -> list[int]:
    if short:
        return [2 * value for value in struct.unpack(f">{count + 1}H", loca[: 2 * (count + 1)])]
    return list(struct.unpack(f">{count + 1}I", loca[: 4 * (count + 1)]))


def _components(font: TTFont) -> dict[int, frozenset[int]]:
    """Every composite glyph id with the ids of all glyphs it is built from, at any depth."""
    glyf = font["glyf"]
    ids = {name: gid for gid, name in enumerate(font.getGlyphOrder())}

    def parts(name: str) -> frozenset[int]:
        glyph = glyf[name]
        if not glyph.isComposite():
            return frozenset()
        direct = [component.glyphName for component in glyph.components]
        return frozenset(ids[part] for part in direct).union(*(parts(part) for part in direct))

    return {ids[name]: parts(name) for name in ids if glyf[name].isComposite()}


def _checksum(padded: bytes) -> int:
    words: tuple[int, ...] = struct.unpack(f">{len(padded) // 4}I", padded)
    return sum(words) & 0xFFFFFFFF
