"""The loopback server's reading of HTTP Range headers (no server runs)."""

from __future__ import annotations

import pytest

from video2audio.convert.loopback import _parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, (0, 999)),
        ("bytes=0-", (0, 999)),
        ("bytes=100-199", (100, 199)),
        ("bytes=900-5000", (900, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=-5000", (0, 999)),
    ],
)
def test_satisfiable_ranges_give_first_and_last_byte(header, expected):
    assert _parse_range(header, 1000) == expected


@pytest.mark.parametrize(
    "header", ["bytes=1000-", "bytes=200-100", "bytes=-0", "bytes=-", "items=0-10", "bytes=0-1,5-9"]
)
def test_unsatisfiable_or_unsupported_ranges_give_none(header):
    assert _parse_range(header, 1000) is None


def test_an_empty_file_has_no_range():
    assert _parse_range(None, 0) is None
