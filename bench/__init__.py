"""Benchmarks, apart from the tests: ``python -m bench`` prints figures and writes them to JSON."""
