"""The vendored rules are the published ones, and the validator reports what they find."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from shared.invoicing.cii import cii_xml
from shared.invoicing.pdf import Attachment, render_invoice
from tests.unit.test_pdf import invoice
from tools.einvoice import validator as einvoice
from tools.einvoice.validator import validator

FOLDER = Path(einvoice.__file__).parent
CHECKSUM = re.compile(r"^([0-9a-f]{64})  (rules/\S+)$", re.MULTILINE)


def test_every_rule_file_has_the_checksum_its_provenance_records() -> None:
    recorded = dict(
        (path, digest) for digest, path in CHECKSUM.findall((FOLDER / "PROVENANCE.md").read_text())
    )
    present = {
        str(path.relative_to(FOLDER)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in (FOLDER / "rules").rglob("*")
        if path.is_file()
    }

    assert present == recorded


def test_many_documents_get_one_report_each_in_order() -> None:
    broken = b"<not-closed"
    schema_invalid = b'<x xmlns="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"/>'

    reports = validator().validate_many([broken, schema_invalid])

    assert [report.rules() >= {"XML"} for report in reports] == [True, False]
    assert "CII-XSD" in reports[1].rules()


def test_the_command_line_exits_non_zero_for_a_fatal_file(tmp_path: Path) -> None:
    document = tmp_path / "broken.xml"
    document.write_bytes(b"<not-closed")

    assert einvoice.main([str(document)]) == 1


def test_the_command_line_reads_the_xml_inside_a_pdf_and_refuses_a_pdf_without_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    issued = invoice(3)
    xml = cii_xml(issued, syntax="factur-x")
    with_xml = tmp_path / "RE-1.pdf"
    with_xml.write_bytes(render_invoice(issued, Attachment("factur-x.xml", xml, "EN 16931")))
    bare = tmp_path / "RE-2.pdf"
    bare.write_bytes(render_invoice(issued))

    assert einvoice.main(["--quiet", str(with_xml)]) == 0
    assert einvoice.main(["--quiet", str(bare)]) == 1
    assert "NO-XML" in capsys.readouterr().out


def test_a_readable_pdf_beside_its_own_xml_is_not_checked_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    issued = invoice(2)
    (tmp_path / "RE-3.pdf").write_bytes(render_invoice(issued))
    (tmp_path / "RE-3.xml").write_bytes(cii_xml(issued, syntax="factur-x"))

    code = einvoice.main(["--quiet", *map(str, sorted(tmp_path.iterdir()))])

    assert code == 0
    assert (
        capsys.readouterr().out.strip().endswith("1 passed, 0 failed (1 PDFs beside their own XML)")
    )
