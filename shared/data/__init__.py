"""Data files shipped with the code: the product catalog."""
