"""scripts/deploy.sh runs on macOS's bash 3.2: no bash-4-only construct in it or what it sources."""

from __future__ import annotations

import subprocess

import pytest

from tests.support.shell import DEPLOY_SCRIPT, MACOS_SCRIPTS, bash4_constructs


@pytest.mark.parametrize("script", MACOS_SCRIPTS, ids=lambda p: p.name)
def test_script_has_no_bash4_construct(script):
    assert bash4_constructs(script.read_text()) == []


@pytest.mark.parametrize(
    "code",
    [
        "declare -A hint=([docker]=x)",
        "local -n ref=$1",
        "mapfile -t args < <(kn_ping_args)",
        "readarray -t lines < file",
        'lower="${name,,}"',
        'upper="${name^^}"',
        'quoted="${name@Q}"',
        'last="${args[-1]}"',
        "make 2>&1 |& tee log",
        "echo x &>> log",
        "coproc kubectl get pods",
        "[[ -v KN ]] && echo set",
        "exec {fd}>file",
        "wait -n",
        "for i in {1..10..2}; do :; done",
        'kubectl "${flags[@]}"',
    ],
)
def test_scan_catches_a_bash4_construct(code):
    assert bash4_constructs(f"#!/usr/bin/env bash\n{code}\n") != []


def test_scan_ignores_constructs_in_comments():
    assert bash4_constructs("# we no longer use declare -A or mapfile here\n") == []


def test_empty_array_expanded_with_a_guard_passes_the_scan():
    assert bash4_constructs('args+=(${extra[@]+"${extra[@]}"})\n') == []


def test_script_run_by_another_shell_says_which_bash_to_install():
    # BASH_VERSINFO is read-only in bash, so the guard is exercised by a shell that is not bash
    # (dash, Debian's /bin/sh); an old bash takes the same branch.
    result = subprocess.run(
        ["dash", str(DEPLOY_SCRIPT), "up"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert "needs bash 3.2 or newer" in result.stderr
    assert "brew install bash" in result.stderr
