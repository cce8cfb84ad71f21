"""Process-wide environment variables set for a while and then restored.

The in-process Lambda runtime sets a function's variables for one invocation and removes them
afterwards, while threads of the emulator (Step Functions executions, SQS pollers) go on creating
boto3 clients. botocore copies ``os.environ`` for every client it makes, and pydantic-settings
reads all of it: both list the keys first and look each up after, so a key removed in between
raised ``KeyError`` in the other thread. While variables are lent out, bulk reads of
``os.environ`` take one snapshot of it instead.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import ItemsView, Iterator, ValuesView


class _SnapshotReadEnviron(os._Environ[str]):
    """``os.environ`` whose copies and views read all variables at one moment."""

    def copy(self) -> dict[str, str]:
        data = self._data  # type: ignore[attr-defined]
        pairs = list(data.items())  # one call on a dict is atomic under the GIL
        return {self.decodekey(key): self.decodevalue(value) for key, value in pairs}

    def items(self) -> ItemsView[str, str]:
        return self.copy().items()

    def values(self) -> ValuesView[str]:
        return self.copy().values()


def read_in_snapshots() -> None:
    if not isinstance(os.environ, _SnapshotReadEnviron):
        os.environ.__class__ = _SnapshotReadEnviron


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    read_in_snapshots()
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, previous in saved.items():
            if previous is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = previous
