"""The customer account: an open-item ledger of immutable postings."""
