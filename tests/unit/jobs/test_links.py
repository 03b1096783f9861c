"""Signed download links: what makes one invalid."""

from __future__ import annotations

import pytest

from video2audio.core.errors import ForbiddenError
from video2audio.jobs.links import check_link_signature

SECRET = "s" * 32


def test_an_expiry_in_superscript_digits_is_an_invalid_link():
    with pytest.raises(ForbiddenError, match="invalid"):
        check_link_signature("f" * 24, "alice", "\u00b2", "0" * 64, secret=SECRET)


def test_a_signature_with_non_ascii_characters_is_an_invalid_link():
    with pytest.raises(ForbiddenError, match="invalid"):
        check_link_signature("f" * 24, "alice", "2000000000", "\u00e9" * 64, secret=SECRET)
