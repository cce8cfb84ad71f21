"""Checks CII e-invoices against the official EN 16931 rules, offline.

Three stages, in the order the rule owners apply them: the UN/CEFACT CII D16B schema (lxml),
the CEN EN 16931 schematron and, when asked, the KoSIT XRechnung schematron (both compiled to
XSLT and run by Saxon-HE through saxonche). The artefacts lie in ``rules/`` beside this file,
unchanged from their publishers (PROVENANCE.md). No rule is written here: a finding is what the
artefacts report, with its rule id and flag. Only ``fatal`` findings make a document invalid.

Compiling the stylesheets takes about half a second; a ``Validator`` does it once and then
checks documents at some milliseconds each, so build one and pass it many documents.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from lxml import etree
from saxonche import PySaxonProcessor

RULES = Path(__file__).resolve().parent / "rules"
SCHEMA = RULES / "cii-d16b-xsd" / "CrossIndustryInvoice_100pD16B.xsd"
EN16931 = RULES / "en16931-cii" / "EN16931-CII-validation.xslt"
XRECHNUNG = RULES / "xrechnung-cii" / "XRechnung-CII-validation.xsl"
SVRL = "{http://purl.oclc.org/dsdl/svrl}"

Ruleset = Literal["xml", "xsd", "pdf", "en16931", "xrechnung"]


@dataclass(frozen=True, slots=True)
class Finding:
    ruleset: Ruleset
    rule: str
    flag: str
    text: str
    location: str

    def __str__(self) -> str:
        return f"[{self.flag}] {self.ruleset} {self.rule}: {self.text} @ {self.location}"


@dataclass(frozen=True, slots=True)
class Report:
    findings: tuple[Finding, ...]

    @property
    def fatal(self) -> bool:
        return any(finding.flag == "fatal" for finding in self.findings)

    def rules(self, flag: str = "fatal") -> set[str]:
        """The ids of the rules that reported with this flag."""
        return {finding.rule for finding in self.findings if finding.flag == flag}


ATTACHMENT_NAMES = ("factur-x.xml", "xrechnung.xml", "zugferd-invoice.xml")


class Validator:
    """The compiled rules of one scope: EN 16931, or EN 16931 plus XRechnung."""

    def __init__(self, *, xrechnung: bool = False) -> None:
        self._schema = etree.XMLSchema(etree.parse(str(SCHEMA), _parser()))
        stylesheets: list[tuple[Ruleset, Path]] = [("en16931", EN16931)]
        if xrechnung:
            stylesheets.append(("xrechnung", XRECHNUNG))
        compiler = _saxon().new_xslt30_processor()
        self._stylesheets = [
            (ruleset, compiler.compile_stylesheet(stylesheet_file=str(path)))
            for ruleset, path in stylesheets
        ]

    def validate(self, document: bytes) -> Report:
        try:
            tree = etree.fromstring(document, _parser())
        except etree.XMLSyntaxError as error:
            return Report((Finding("xml", "XML", "fatal", str(error), "/"),))

        findings = self._schema_findings(tree)
        node = _saxon().parse_xml(xml_text=etree.tostring(tree, encoding="unicode"))
        for ruleset, stylesheet in self._stylesheets:
            findings += _svrl_findings(ruleset, stylesheet.transform_to_string(xdm_node=node))
        return Report(tuple(findings))

    def validate_many(self, documents: Iterable[bytes]) -> list[Report]:
        return [self.validate(document) for document in documents]

    def _schema_findings(self, tree: Any) -> list[Finding]:
        if self._schema.validate(tree):
            return []
        errors: Any = self._schema.error_log  # iterable; lxml-stubs do not say so
        return [
            Finding("xsd", "CII-XSD", "fatal", error.message, f"line {error.line}")
            for error in errors
        ]


@cache
def validator(*, xrechnung: bool = False) -> Validator:
    """One compiled validator per scope and process."""
    return Validator(xrechnung=xrechnung)


@cache
def _saxon() -> PySaxonProcessor:
    return PySaxonProcessor(license=False)


def _parser() -> Any:
    """No DTDs, no entities, no network: an invoice is data, never instructions."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _svrl_findings(ruleset: Ruleset, svrl: str | None) -> list[Finding]:
    if not svrl:
        return [Finding(ruleset, "SVRL", "fatal", "the rules produced no report", "/")]

    report = etree.fromstring(svrl.encode(), _parser())
    reported = report.iter(f"{SVRL}failed-assert", f"{SVRL}successful-report")
    return [_finding(ruleset, element) for element in reported]


def _finding(ruleset: Ruleset, element: Any) -> Finding:
    text = element.findtext(f"{SVRL}text") or ""
    return Finding(
        ruleset=ruleset,
        rule=element.get("id", "?"),
        flag=element.get("flag", "fatal"),
        text=" ".join(text.split()),
        location=element.get("location", ""),
    )


def main(arguments: Sequence[str] | None = None) -> int:
    """Checks XML files and the XML inside PDF/A-3 files; exit status 1 if any has a fatal
    finding. Documents that name the XRechnung specification get its rules as well."""
    parser = argparse.ArgumentParser(prog="python -m tools.einvoice.validator")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--xrechnung", action="store_true", help="XRechnung rules for all")
    parser.add_argument("--quiet", action="store_true", help="print failures and the total only")
    options = parser.parse_args(arguments)

    checked = failed = readable_copies = 0
    for path in options.files:
        xml = einvoice_xml(path)
        if xml is None and path.with_suffix(".xml").exists():
            readable_copies += 1
            continue
        report = _report_of(path, xml, xrechnung=options.xrechnung)
        checked += 1
        failed += report.fatal
        if report.fatal or not options.quiet:
            lines = [str(finding) for finding in report.findings]
            lines.append(f"{path}: {'FAIL' if report.fatal else 'PASS'}")
            sys.stdout.write("\n".join(lines) + "\n")
    copies = f" ({readable_copies} PDFs beside their own XML)" if readable_copies else ""
    sys.stdout.write(f"{checked - failed} passed, {failed} failed{copies}\n")
    return 1 if failed else 0


def _report_of(path: Path, xml: bytes | None, *, xrechnung: bool) -> Report:
    if xml is None:
        reason = "a PDF without an e-invoice attached and without an XML beside it"
        return Report((Finding("pdf", "NO-XML", "fatal", reason, str(path)),))
    return validator(xrechnung=xrechnung or names_xrechnung(xml)).validate(xml)


def einvoice_xml(path: Path) -> bytes | None:
    """The file itself, or the e-invoice attached to a PDF (None for a PDF without one)."""
    body = path.read_bytes()
    if not body.startswith(b"%PDF"):
        return body

    from pypdf import PdfReader

    attachments = PdfReader(io.BytesIO(body)).attachments
    for name in ATTACHMENT_NAMES:
        if name in attachments:
            return attachments[name][0]
    return None


def names_xrechnung(xml: bytes) -> bool:
    """BT-24 of the document names the XRechnung specification."""
    return b"urn:xeinkauf.de:kosit:xrechnung" in xml


if __name__ == "__main__":
    sys.exit(main())
