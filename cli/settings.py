"""The settings a command runs with, from this shell and the resources it found."""

from __future__ import annotations

import os

from infra import spec
from shared.settings import Settings


def cli_settings(resources: dict[str, str]) -> Settings:
    """The defaults of a fresh installation, placeholders for the tables and buckets the command
    does not touch, the ``BILLING_`` variables of this shell, then the resources found (in this
    shell or among the deployed stack's outputs)."""
    values = spec.default_settings()
    values |= {table.env_var: "unused" for table in spec.TABLES}
    values |= {bucket.env_var: "unused" for bucket in spec.BUCKETS}
    values |= {name: value for name, value in os.environ.items() if name.startswith("BILLING_")}
    values |= resources
    return Settings.model_validate(
        {name.removeprefix("BILLING_").lower(): value for name, value in values.items()}
    )
