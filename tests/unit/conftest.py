"""Hypothesis draws the same examples on every run, so CI is deterministic.

``HYPOTHESIS_PROFILE=thorough`` draws many more examples, at random, for a search by hand.
"""

import os

# Handlers read their metrics namespace when imported, as on Lambda from the function's settings.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Billing")

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.register_profile("thorough", max_examples=2_000, database=None, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
