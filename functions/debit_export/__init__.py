"""The daily debit export: a pain.008 file of what is due by the next business day."""
