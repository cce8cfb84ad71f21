"""One construct per component of the billing stack."""
