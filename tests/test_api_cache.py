"""The reporting service's cache entries: gzip once per entry, only for clients that take it."""

from __future__ import annotations

import gzip

import pytest

from api.cache import GZIP_MIN_BYTES, Body, ResponseCache, accepts_gzip, etag, gzip_tag


@pytest.mark.parametrize(
    ("header", "takes"),
    [("gzip, deflate", True), ("br, gzip;q=0.5", True), ("*", True), ("identity", False), ("gzip;q=0", False), ("", False), ("gzip;q=x", False)],
)
def test_accept_encoding_is_read_with_its_weights(header, takes):
    assert accepts_gzip(header) is takes


def test_a_body_is_compressed_once_when_it_is_large_enough_to_gain():
    small, large = b'{"rows":[]}', b'{"rows":[' + b'{"spend":12.5,"roas":3.1},' * 200 + b"{}]}"
    assert len(large) >= GZIP_MIN_BYTES > len(small)
    assert Body.of(small).gzipped is None
    body = Body.of(large)
    assert gzip.decompress(body.gzipped) == large and len(body.gzipped) < len(large) / 5


def test_each_encoding_has_its_own_tag_and_the_cache_keeps_the_newest():
    tag = etag("build-1", "/v1/workspaces/w/kpis", "[]")
    assert gzip_tag(tag) != tag and gzip_tag(tag).startswith('"') and gzip_tag(tag).endswith('-gz"')
    assert etag("build-2", "/v1/workspaces/w/kpis", "[]") != tag
    cache = ResponseCache(2)
    for key in ("a", "b", "c"):
        cache.put(key, Body.of(key.encode()))
    assert cache.get("a") is None and cache.get("c").json == b"c"
