"""convert asks glibc to give 1 MiB chunk buffers back to the system when they are freed."""

from __future__ import annotations

import platform

import pytest

from video2audio.convert.heap import return_large_buffers


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_the_mmap_threshold_is_fixed_on_glibc():
    assert return_large_buffers() is True
