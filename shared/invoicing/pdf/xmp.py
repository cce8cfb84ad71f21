"""The XMP metadata packet: PDF/A-3b identification, the Info entries again, and the Factur-X
extension schema when an e-invoice XML is attached.

PDF/A accepts only XMP properties of schemas it predefines or that the packet itself describes in
a pdfaExtension schema, so the fx properties come with their description.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from shared.invoicing.pdf.writer import PRODUCER, DocumentInfo

FACTUR_X_NAMESPACE = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
PACKET_ID = "W5M0MpCehiHzreSzNTczkc9d"


@dataclass(frozen=True)
class FacturX:
    """What the fx properties declare about the attached XML."""

    file_name: str
    conformance_level: str
    document_type: str = "INVOICE"
    version: str = "1.0"


_FX_PROPERTIES = (
    ("DocumentFileName", "The name of the embedded XML document"),
    ("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE"),
    ("Version", "The version of the standard of the embedded XML document"),
    ("ConformanceLevel", "The conformance level of the embedded XML document"),
)


def packet(info: DocumentInfo, factur_x: FacturX | None) -> bytes:
    parts = [
        f'<?xpacket begin="\ufeff" id="{PACKET_ID}"?>\n',
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n',
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n',
        _identification(),
        _document(info),
    ]
    if factur_x is not None:
        parts += [_extension_schema(), _factur_x(factur_x)]
    parts.append('</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end="w"?>')
    return "".join(parts).encode("utf-8")


def xmp_date(day: date) -> str:
    return f"{day.isoformat()}T00:00:00+00:00"


def _identification() -> str:
    return (
        '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">\n'
        "<pdfaid:part>3</pdfaid:part>\n<pdfaid:conformance>B</pdfaid:conformance>\n"
        "</rdf:Description>\n"
    )


def _document(info: DocumentInfo) -> str:
    created = xmp_date(info.created)
    return (
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">\n'
        "<dc:format>application/pdf</dc:format>\n"
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(info.title)}</rdf:li>'
        "</rdf:Alt></dc:title>\n"
        f"<dc:creator><rdf:Seq><rdf:li>{escape(info.author)}</rdf:li></rdf:Seq></dc:creator>\n"
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(info.subject)}'
        "</rdf:li></rdf:Alt></dc:description>\n"
        f"<xmp:CreatorTool>{escape(info.creator)}</xmp:CreatorTool>\n"
        f"<xmp:CreateDate>{created}</xmp:CreateDate>\n"
        f"<xmp:ModifyDate>{created}</xmp:ModifyDate>\n"
        f"<xmp:MetadataDate>{created}</xmp:MetadataDate>\n"
        f"<pdf:Producer>{escape(PRODUCER)}</pdf:Producer>\n"
        "</rdf:Description>\n"
    )


def _extension_schema() -> str:
    properties = "".join(
        '<rdf:li rdf:parseType="Resource">\n'
        f"<pdfaProperty:name>{name}</pdfaProperty:name>\n"
        "<pdfaProperty:valueType>Text</pdfaProperty:valueType>\n"
        "<pdfaProperty:category>external</pdfaProperty:category>\n"
        f"<pdfaProperty:description>{description}</pdfaProperty:description>\n"
        "</rdf:li>\n"
        for name, description in _FX_PROPERTIES
    )
    return (
        '<rdf:Description rdf:about="" '
        'xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" '
        'xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" '
        'xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">\n'
        '<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">\n'
        "<pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>\n"
        f"<pdfaSchema:namespaceURI>{FACTUR_X_NAMESPACE}</pdfaSchema:namespaceURI>\n"
        "<pdfaSchema:prefix>fx</pdfaSchema:prefix>\n"
        f"<pdfaSchema:property><rdf:Seq>\n{properties}</rdf:Seq></pdfaSchema:property>\n"
        "</rdf:li></rdf:Bag></pdfaExtension:schemas>\n"
        "</rdf:Description>\n"
    )


def _factur_x(factur_x: FacturX) -> str:
    return (
        f'<rdf:Description rdf:about="" xmlns:fx="{FACTUR_X_NAMESPACE}">\n'
        f"<fx:DocumentType>{escape(factur_x.document_type)}</fx:DocumentType>\n"
        f"<fx:DocumentFileName>{escape(factur_x.file_name)}</fx:DocumentFileName>\n"
        f"<fx:Version>{escape(factur_x.version)}</fx:Version>\n"
        f"<fx:ConformanceLevel>{escape(factur_x.conformance_level)}</fx:ConformanceLevel>\n"
        "</rdf:Description>\n"
    )
