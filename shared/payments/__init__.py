"""Payments: bank statements in (CAMT, MT940), direct debits out (pain.008), matching."""
