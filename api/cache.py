"""Responses cached per workspace and query, keyed on the last mart build (and, for alerts and sync
status, on the last change of their ops rows): a new build makes every old entry unreachable."""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from typing import NamedTuple

GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 5  # 280 KPI rows: about a tenth of the bytes, in about a millisecond, once per cache entry


class Body(NamedTuple):
    """A cached answer, and its gzip encoding (compressed once, when it is cached) for clients that take it."""

    json: bytes
    gzipped: bytes | None

    @classmethod
    def of(cls, json: bytes) -> Body:
        return cls(json, gzip.compress(json, compresslevel=GZIP_LEVEL) if len(json) >= GZIP_MIN_BYTES else None)


def etag(version: str, path: str, query: str) -> str:
    digest = hashlib.sha256(f"{version}\n{path}\n{query}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header takes gzip (named or `*`, without q=0)."""
    for part in accept_encoding.split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip().lower().removeprefix("q=")
            try:
                return not params.strip() or float(q) > 0
            except ValueError:
                return False
    return False


def gzip_tag(tag: str) -> str:
    """The ETag of the gzip encoding of the answer tagged `tag` (another representation, another tag)."""
    return tag[:-1] + '-gz"'


class ResponseCache:
    """A bounded LRU of response bodies by ETag."""

    def __init__(self, entries: int):
        self.entries = entries
        self._data: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: str):
        with self._lock:
            body = self._data.get(key)
            if body is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return body

    def put(self, key: str, body) -> None:
        with self._lock:
            self._data[key] = body
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)
