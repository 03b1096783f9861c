"""Where things are in the repository."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
FUNCTIONS = ROOT / "functions"
STATIC_DIR = FUNCTIONS / "upload" / "static"
FUNCTIONS_FRAMEWORK = Path(sys.executable).with_name("functions-framework")
