"""Running scripts/deploy.sh's functions, and finding bash-4-only constructs in shell scripts.

macOS ships bash 3.2; no bash 3.2 can be installed on the build machine (Debian, PyPI and npm
have none). So the scripts that must run on macOS are checked two ways: a static scan for the
constructs bash 3.2 does not have (`bash4_constructs`), and runs of their functions under
/bin/bash with BASH_COMPAT=3.2, which makes bash behave as 3.2 where the two differ in
behaviour the maintainers chose to keep switchable; it does not remove newer syntax, hence the scan.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.support.paths import SCRIPTS

DEPLOY_SCRIPT = SCRIPTS / "deploy.sh"
# What must run on macOS: deploy.sh and what it sources.
MACOS_SCRIPTS = (DEPLOY_SCRIPT, SCRIPTS / "versions.env")

# Arrays deploy.sh expands unguarded ("${a[@]}"): never empty where they are expanded. bash
# before 4.4 calls an empty array unbound under `set -u`, so any other array must be expanded as
# ${a[@]+"${a[@]}"}.
NEVER_EMPTY_ARRAYS = frozenset({"FUNCTIONS", "args", "literals"})

BASH4_CONSTRUCTS: dict[str, re.Pattern[str]] = {
    "associative array (declare -A)": re.compile(r"\b(?:declare|local|typeset)\s+-\w*A"),
    "nameref (declare -n)": re.compile(r"\b(?:declare|local|typeset)\s+-\w*n"),
    "global declare (declare -g)": re.compile(r"\b(?:declare|typeset)\s+-\w*g"),
    "mapfile/readarray": re.compile(r"\b(?:mapfile|readarray)\b"),
    "case modification (${x,,} ${x^^})": re.compile(r"\$\{[#!]?\w+(?:\[[^]]*\])?(?:,|\^)"),
    "transformation (${x@Q})": re.compile(r"\$\{\w+(?:\[[^]]*\])?@[QEPAaKkUuL]\}"),
    "negative array index": re.compile(r"\$\{\w+\[-\d+\]\}"),
    "|& pipe": re.compile(r"\|&"),
    "&>> redirection": re.compile(r"&>>"),
    "coproc": re.compile(r"\bcoproc\b"),
    ";;& or ;& case fall-through": re.compile(r";;&|(?<!;);&\s*$"),
    "-v test": re.compile(r"(?:\[\[|\btest|\[)\s+-v\s"),
    "wait -n": re.compile(r"\bwait\s+-n\b"),
    "{fd} redirection": re.compile(r"\{\w+\}[<>]"),
    "globstar": re.compile(r"\bglobstar\b"),
    "bash 5 variable": re.compile(r"\$\{?(?:EPOCHSECONDS|EPOCHREALTIME|SRANDOM|BASH_ARGV0)\b"),
    "printf %(...)T": re.compile(r"%\([^)]*\)T"),
    "brace expansion with a step": re.compile(r"\{-?\d+\.\.-?\d+\.\.-?\d+\}"),
}
_ARRAY_EXPANSION = re.compile(r'(?<!\+)"\$\{(\w+)\[@\]\}"')


def _code(line: str) -> str:
    """The line without its comment (a `#` starting a word; no script quotes a lone #)."""
    if line.lstrip().startswith("#"):
        return ""
    return re.split(r"(?:^|\s)#(?![{!])", line, maxsplit=1)[0]


def bash4_constructs(text: str) -> list[str]:
    """Each bash-4-only construct in a script's code, as 'line N: what: code'."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        code = _code(line)
        for what, pattern in BASH4_CONSTRUCTS.items():
            if pattern.search(code):
                found.append(f"line {number}: {what}: {line.strip()}")
        for name in _ARRAY_EXPANSION.findall(code):
            if name not in NEVER_EMPTY_ARRAYS:
                what = "empty array unbound under set -u before bash 4.4"
                found.append(f"line {number}: {what}: {line.strip()}")
    return found


def compat32_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("V2A_", "BASH_"))}
    env.update({"BASH_COMPAT": "3.2", **extra})
    return env


def run_deploy(
    *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`bash scripts/deploy.sh ARGS` under BASH_COMPAT=3.2."""
    return subprocess.run(
        ["/bin/bash", str(DEPLOY_SCRIPT), *args],
        env=env or compat32_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


def run_sourced(
    snippet: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Source deploy.sh (definitions only) under BASH_COMPAT=3.2, then run snippet."""
    return subprocess.run(
        ["/bin/bash", "-c", f'source "{DEPLOY_SCRIPT}"\n{snippet}'],
        env=env or compat32_env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
