"""The local stand-in for the domain registries (EPP is not reachable from here).

It answers like a registry where a fixed list of names is registered to others, and every name
whose label starts with ``registered-``; everything else is free. A deployment puts a real EPP
check behind the same port.
"""

from __future__ import annotations

REGISTERED_ELSEWHERE = frozenset(
    {
        "google.de",
        "google.com",
        "amazon.de",
        "beispiel.de",
        "example.com",
        "example.net",
        "example.org",
        "europa.eu",
    }
)


class LocalRegistry:
    def __init__(self, registered: frozenset[str] = REGISTERED_ELSEWHERE) -> None:
        self._registered = registered

    def is_free(self, domain: str) -> bool:
        label = domain.split(".", 1)[0]
        return domain not in self._registered and not label.startswith("registered-")
