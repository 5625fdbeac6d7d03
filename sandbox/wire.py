"""What every fake speaks: a request as the server parsed it, the response it sends, and a route.

The server (`sandbox/server.py`), the fault injector (`sandbox/faults.py`) and the platform fakes
(`sandbox/platforms/`) all import these from here, so none of them imports another to answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    host: str
    raw_query: str = ""  # the query string as sent (Rest.li values need their exact encoding)


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    reset_after: int | None = None  # send only this many body bytes, then drop the connection

    @classmethod
    def json(cls, status: int, payload: object, headers: dict | None = None) -> Response:
        data = json.dumps(payload, separators=(",", ":")).encode()
        return cls(
            status,
            data,
            {"Content-Type": "application/json; charset=UTF-8", **(headers or {})},
        )


@dataclass
class Route:
    method: str
    pattern: re.Pattern
    platform: str
    endpoint: str
    handler: Callable[..., Response]
    faultable: bool = False
    account_group: int | None = 2  # the path group holding the account id, for fault matching
    account_header: str | None = None  # or the (lower-case) header naming it (Zid's Store-Id)
