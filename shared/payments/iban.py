"""IBANs as people read them: in groups of four, and masked where a document shows a debtor's."""

from __future__ import annotations


def grouped_iban(iban: str) -> str:
    compact = iban.replace(" ", "")
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def masked_iban(iban: str) -> str:
    """Country, check digits and the last four characters; the rest hidden."""
    compact = iban.replace(" ", "")
    hidden = compact[:4] + "X" * (len(compact) - 8) + compact[-4:]
    return grouped_iban(hidden)
