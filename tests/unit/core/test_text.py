"""Text from and for people: decimal numbers, file names, sizes."""

from __future__ import annotations

import pytest

from video2audio.core.text import base_name, filename_stem, human_size, parse_decimal


@pytest.mark.parametrize(("raw", "value"), [("0", 0), ("192", 192), ("007", 7)])
def test_plain_decimal_digits_are_numbers(raw, value):
    assert parse_decimal(raw) == value


@pytest.mark.parametrize("raw", ["", "-1", "+1", " 1", "1.5", "²", "1e3", "٣x", "0x10"])
def test_anything_else_is_not_a_number(raw):
    assert parse_decimal(raw) is None


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("C:\\Users\\me\\Videos\\talk.mp4", "talk.mp4"),
        ("/home/me/talk.mp4", "talk.mp4"),
        ("tab\there.mp4", "tabhere.mp4"),
        ("", "video"),
        ("a" * 300, "a" * 255),
    ],
)
def test_a_clients_file_name_is_reduced_to_its_last_printable_component(raw, name):
    assert base_name(raw) == name


@pytest.mark.parametrize(
    ("filename", "stem"),
    [
        ("Holiday 2024.final.mp4", "Holiday 2024.final"),
        ("clip", "clip"),
        (".bashrc", ".bashrc"),
        ("dir/talk.mov", "talk"),
        ("", "audio"),
        (None, "audio"),
    ],
)
def test_the_stem_drops_the_directory_and_the_last_extension(filename, stem):
    assert filename_stem(filename) == stem


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 bytes"), (1023, "1023 bytes"), (1024, "1 KiB"), (1536, "1.5 KiB"), (3 << 30, "3 GiB")],
)
def test_sizes_read_in_binary_units(size, text):
    assert human_size(size) == text
