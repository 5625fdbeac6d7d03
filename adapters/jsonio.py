"""JSON decoding for API bodies: fast (msgspec), with the standard library's exact semantics.

``loads(body)`` returns what ``json.loads(body)`` returns. It decodes with msgspec
(several times faster on large report pages) and falls back to ``json.loads``
for anything msgspec refuses, so the edge cases (NaN and Infinity, lone
surrogates, UTF-16 bodies) decode as before and malformed JSON raises the
standard library's ``ValueError`` with its position.

``array_elements(body)`` splits a body that is a JSON array into its elements'
raw bytes without decoding them (a fast scan), so a parser can decode and hand
on one element (a Google Ads searchStream batch of 10,000 rows) at a time.
"""

from __future__ import annotations

import json

import msgspec

_decode = msgspec.json.Decoder().decode
_split = msgspec.json.Decoder(list[msgspec.Raw]).decode


def loads(body: bytes | str) -> object:
    """``json.loads(body)``, decoded by msgspec where it can."""
    try:
        return _decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        return json.loads(body)  # the reference semantics and error message


def array_elements(body: bytes) -> list[bytes] | None:
    """The raw bytes of each element of a JSON array body; None when the body is not one (or not valid JSON)."""
    try:
        return [bytes(element) for element in _split(body)]
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError):
        return None


def load_body(body: bytes) -> object:
    """An API body decoded (``loads``); ``BadResponseError`` quoting its start when it is not JSON."""
    from adapters.errors import BadResponseError, body_excerpt

    try:
        return loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadResponseError(f"body is not JSON (starts with {body_excerpt(body)})") from None
