"""Re-deploying a changed RabbitmqSource (its spec is immutable): the decision and the rendering."""

from __future__ import annotations

import re

import pytest

from tests.support.paths import ROOT
from tests.support.shell import run_deploy, run_sourced

CONVERT_SOURCE = ROOT / "knative" / "eventing" / "convert-source.yaml"
ANNOTATION = "video2audio.dev/spec-sha256"


@pytest.mark.parametrize(
    ("exists", "live", "want", "action"),
    [
        ("false", "", "abc", "create"),
        ("true", "abc", "abc", "unchanged"),
        ("true", "abc", "def", "replace"),
        ("true", "", "def", "adopt"),
    ],
)
def test_source_action_follows_the_live_spec_digest(exists, live, want, action):
    result = run_sourced(f'source_action {exists} "{live}" {want}')
    assert result.stdout.strip() == action


def _digest(path):
    rendered = run_deploy("source-manifest", str(path)).stdout
    return re.search(rf"^    {re.escape(ANNOTATION)}: (\w+)$", rendered, re.M).group(1)


def test_rendered_source_carries_the_digest_of_its_spec():
    rendered = run_deploy("source-manifest", str(CONVERT_SOURCE)).stdout
    assert re.search(r"^    queueName: video2audio\.convert$", rendered, re.M)
    assert re.fullmatch(r"[0-9a-f]{32}", _digest(CONVERT_SOURCE))


def test_changed_parallelism_changes_the_digest(tmp_path):
    changed = tmp_path / "convert-source.yaml"
    changed.write_text(CONVERT_SOURCE.read_text().replace("parallelism: 2", "parallelism: 3"))
    assert _digest(changed) != _digest(CONVERT_SOURCE)


def test_comments_and_layout_leave_the_digest_alone(tmp_path):
    reformatted = tmp_path / "convert-source.yaml"
    reformatted.write_text("# a new comment\n" + CONVERT_SOURCE.read_text().replace("\n\n", "\n"))
    assert _digest(reformatted) == _digest(CONVERT_SOURCE)


def test_a_changed_source_is_deleted_then_created_keeping_the_queue(tmp_path):
    # The replace path with kubectl's cluster calls recorded instead of run: delete, then create.
    calls = tmp_path / "calls"
    result = run_sourced(
        f"""
        kubectl() {{
          case "$1 $2" in
            "annotate --local") command kubectl "$@"; return ;;
          esac
          echo "$1 $2" >>"{calls}"
          case "$*" in
            *jsonpath*) echo stale-digest ;;
            "apply -f -") cat >"{tmp_path}/applied" ;;
          esac
        }}
        log() {{ :; }}
        deploy_rabbitmq_source "{CONVERT_SOURCE}"
        """
    )
    assert result.returncode == 0, result.stderr
    assert calls.read_text().splitlines() == [
        "get rabbitmqsource",
        "get rabbitmqsource",
        "delete rabbitmqsource",
        "apply -f",
    ]
    assert ANNOTATION in (tmp_path / "applied").read_text()
