"""Responses cached per workspace and query, keyed on the last mart build (and, for alerts and sync
status, on the last change of their ops rows): a new build makes every old entry unreachable."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict


def etag(version: str, path: str, query: str) -> str:
    digest = hashlib.sha256(f"{version}\n{path}\n{query}".encode()).hexdigest()[:32]
    return f'"{digest}"'


class ResponseCache:
    """A bounded LRU of response bodies by ETag."""

    def __init__(self, entries: int):
        self.entries = entries
        self._data: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            body = self._data.get(key)
            if body is not None:
                self._data.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        with self._lock:
            self._data[key] = body
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)
