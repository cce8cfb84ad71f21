"""The vendored rules are the published ones, and the validator reports what they find."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

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
