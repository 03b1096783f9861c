"""Large buffers go back to the system as soon as they are freed, so convert's memory stays flat.

convert moves the video and the audio through 1 MiB GridFS chunks in several threads (loopback
requests, the output reader, the chunk writers). glibc serves blocks that large from their own
mappings at first, but raises that threshold each time one is freed; from then on they come from
per-thread heaps (arenas) that keep the pages once freed, so the worker's resident memory grows by
a few chunks per thread and stays there. Fixing the threshold keeps every chunk in a mapping of
its own, returned on free; a threshold this size costs a map/unmap per chunk, nothing measurable.
"""

from __future__ import annotations

import ctypes
import logging

logger = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD_BYTES = 256 * 1024


def return_large_buffers() -> bool:
    """Ask the C library to map blocks of MMAP_THRESHOLD_BYTES and more on their own.

    False where there is no glibc ``mallopt`` (musl, macOS): the default allocator stays.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    logger.debug("malloc mmap threshold fixed at %d bytes: %s", MMAP_THRESHOLD_BYTES, done)
    return done
