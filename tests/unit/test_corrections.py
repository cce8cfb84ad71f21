"""A cancellation reverses every amount of the original and keeps everything else."""

from __future__ import annotations

from shared.customers import Address, Customer
from shared.invoicing.compose import compose_invoice
from shared.invoicing.corrections import reversed_draft
from shared.periods import Period
from shared.tax import TaxCategory
from tests.unit.fakes import position


def test_reversed_groups_keep_their_vat_category_and_exemption() -> None:
    french_business = Customer(
        customer_id="C0000003",
        name="Dupont SARL",
        email="compta@dupont.example",
        address=Address(street="1 rue de Rivoli", postal_code="75001", city="Paris", country="FR"),
        kind="business",
        vat_id="FR40303265045",
        shard=0,
    )
    positions = [
        position("C0000003", 1, unit_net="12.50"),
        position("C0000003", 2, unit_net="5.00", category=TaxCategory.EXEMPT),
    ]
    draft = compose_invoice(french_business, positions, Period(2026, 11))
    assert draft is not None

    reversed_groups = reversed_draft(draft).vat_groups

    assert [g.category_code for g in reversed_groups] == ["AE", "E"]
    for original, reversed_group in zip(draft.vat_groups, reversed_groups, strict=True):
        assert reversed_group.exemption_reason == original.exemption_reason
        assert reversed_group.exemption_reason_code == original.exemption_reason_code
        assert (reversed_group.net, reversed_group.vat) == (-original.net, -original.vat)
