"""The synthetic hoster gives EU businesses VAT ids that pass the strict check, apart from the
malformed ones it makes on purpose."""

from __future__ import annotations

from collections import Counter
from datetime import date

from cli.seed import synthetic_hoster
from shared.vat_ids import InvalidVatIdError, validate_vat_id


def test_well_formed_vat_ids_of_every_country_pass_and_the_malformed_ones_fail() -> None:
    hoster = synthetic_hoster(2_000, shard_count=4, period_start=date(2026, 11, 1))
    outcome: Counter[tuple[str, str]] = Counter()

    for customer in hoster.customers:
        vat_id, country = customer.vat_id, customer.address.country
        if vat_id is None:
            continue
        malformed = len(vat_id) == len(country) + 5
        try:
            validate_vat_id(vat_id, country)
            outcome[country, "malformed passed" if malformed else "valid"] += 1
        except InvalidVatIdError:
            outcome[country, "malformed" if malformed else "valid failed"] += 1

    assert {key for key in outcome if key[1] in ("valid failed", "malformed passed")} == set()
    assert {country for country, verdict in outcome if verdict == "valid"} >= {"AT", "FR"}
