"""Logging set-up for function processes."""

from __future__ import annotations

import functools
import logging

from video2audio.settings import get_settings


@functools.cache
def configure_logging() -> None:
    logging.basicConfig(
        level=get_settings().log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # pika logs every connection step at INFO; its warnings are what matter.
    logging.getLogger("pika").setLevel(logging.WARNING)
