"""Logging set-up for function processes."""

from __future__ import annotations

import logging

from video2audio.core.once import once_per_process
from video2audio.core.settings import Settings


@once_per_process
def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # pika logs every connection step at INFO; its warnings are what matter.
    logging.getLogger("pika").setLevel(logging.WARNING)
