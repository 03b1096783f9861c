"""Where things are in the repository."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
FUNCTIONS = ROOT / "functions"
STATIC_DIR = FUNCTIONS / "upload" / "static"
# How make up and the images serve a function: functions-framework, hardened (web/server.py).
SERVE = Path(sys.executable).with_name("video2audio-serve")
