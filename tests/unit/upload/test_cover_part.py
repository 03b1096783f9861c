"""The cover image part of an upload: recognised by its bytes, bounded in size."""

from __future__ import annotations

import pytest

from video2audio.core.errors import BadRequestError
from video2audio.upload.cover_part import CoverBuffer, sniff_image

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@pytest.mark.parametrize(("head", "media_type"), [(PNG, "image/png"), (JPEG, "image/jpeg")])
def test_jpeg_and_png_are_recognised_by_their_magic_bytes(head, media_type):
    assert sniff_image(head) == media_type


def test_anything_else_is_not_an_image():
    assert sniff_image(b"GIF89a") is None and sniff_image(b"<svg") is None


def test_a_cover_past_the_limit_is_a_400_naming_the_limit():
    cover = CoverBuffer(max_bytes=16)
    cover.start()
    with pytest.raises(BadRequestError, match="16 bytes"):
        cover.feed(JPEG)


def test_a_cover_that_is_not_an_image_is_a_400():
    cover = CoverBuffer(max_bytes=1024)
    cover.start()
    cover.feed(b"%PDF-1.7 not an image")
    with pytest.raises(BadRequestError, match="JPEG or PNG"):
        cover.finish()


def test_a_second_cover_part_is_a_400():
    cover = CoverBuffer(max_bytes=1024)
    cover.start()
    with pytest.raises(BadRequestError, match="at most one"):
        cover.start()
