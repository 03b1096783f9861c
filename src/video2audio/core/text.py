"""Text that comes from people or goes to them: numbers in requests, file names, sizes."""

from __future__ import annotations

MAX_FILENAME_CHARS = 255


def parse_decimal(raw: str) -> int | None:
    """The value of a string of ASCII-range decimal digits, or None for anything else.

    ``str.isdigit`` also accepts characters such as '²' that ``int()`` refuses; ``isdecimal``
    accepts exactly what ``int()`` takes, without a sign or spaces.
    """
    if not isinstance(raw, str) or not raw.isdecimal():
        return None
    return int(raw)


def printable(text: str) -> str:
    """``text`` without control, format and other non-printable characters."""
    return "".join(ch for ch in text if ch.isprintable())


def base_name(raw: str, *, default: str = "video") -> str:
    """The last path component of a client's file name (browsers may send a full path)."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = printable(name).strip()
    return name[:MAX_FILENAME_CHARS] or default


def filename_stem(filename: str | None, *, default: str = "audio") -> str:
    """A file name without its directory and its last extension ('.bashrc' keeps its name)."""
    name = base_name(filename or "", default="")
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return stem.strip() or default


def human_size(size: int) -> str:
    """A byte count for people, in binary units: '512 bytes', '1.5 MiB', '2 GiB'."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def positive_number(value: object) -> float | None:
    """A positive number from a tool's text (ffprobe's durations), or None for anything else."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None
