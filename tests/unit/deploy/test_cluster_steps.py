"""deploy.sh's cluster steps that can run without a cluster: retries and the capacity check."""

from __future__ import annotations

import pytest

from tests.support.shell import run_deploy, run_sourced

GIB = 1024**3


def _flaky(tmp_path, failures):
    """A command that fails its first `failures` runs (status 3), then succeeds; counts runs."""
    script = tmp_path / "flaky"
    count = tmp_path / "count"
    count.write_text("0")
    script.write_text(
        f'#!/bin/sh\nn=$(($(cat "{count}") + 1)); echo $n >"{count}"\n'
        f'[ "$n" -gt {failures} ] || exit 3\n'
    )
    script.chmod(0o755)
    return script, count


def test_retry_succeeds_once_the_command_does(tmp_path):
    flaky, count = _flaky(tmp_path, failures=2)
    result = run_sourced(f'sleep() {{ :; }}; retry 5 1 "{flaky}"')
    assert result.returncode == 0
    assert count.read_text().strip() == "3"


def test_retry_gives_up_after_the_attempts_with_the_last_status(tmp_path):
    flaky, count = _flaky(tmp_path, failures=10)
    result = run_sourced(f'sleep() {{ :; }}; retry 3 1 "{flaky}" apply -f x')
    assert result.returncode == 3
    assert count.read_text().strip() == "3"
    assert f"giving up after 3 attempts: {flaky} apply -f x" in result.stderr


def test_retry_waits_twice_as_long_after_each_failure(tmp_path):
    flaky, _ = _flaky(tmp_path, failures=3)
    result = run_sourced(f'sleep() {{ echo "slept $1"; }}; retry 5 2 "{flaky}"')
    assert result.stdout.split("\n")[:3] == ["slept 2", "slept 4", "slept 8"]


@pytest.mark.parametrize(
    ("cpus", "memory"),
    [(4, 16 * GIB), (8, 4 * GIB)],
    ids=["too-few-cpus", "too-little-memory"],
)
def test_a_small_docker_vm_is_refused_naming_the_minimum(cpus, memory):
    result = run_deploy("capacity", str(cpus), str(memory), check=False)
    assert result.returncode == 1
    assert "needs at least 5 CPUs and 6 GiB" in result.stderr


def test_a_vm_of_the_minimum_size_as_docker_reports_it_is_enough():
    # Docker reports a 6 GiB VM as a little less (what the kernel keeps).
    result = run_deploy("capacity", "5", str(int(5.8 * GIB)))
    assert "enough" in result.stdout


def test_an_unreadable_docker_size_is_refused():
    result = run_deploy("capacity", "four", "lots", check=False)
    assert result.returncode == 1
    assert "cannot read the Docker VM's size" in result.stderr


def _fake_kubectl(tmp_path, ready_after):
    """kubectl as a shell function: deployments are Available at once, and the webhook's
    EndpointSlices list a ready address from the `ready_after`-th look on."""
    looks = tmp_path / "looks"
    looks.write_text("0")
    return (
        f"""
        sleep() {{ :; }}
        kubectl() {{
          case "$1 $2" in
            "wait --namespace") return 0 ;;
            "get endpointslices")
              n=$(($(cat "{looks}") + 1)); echo $n >"{looks}"
              [ "$n" -lt {ready_after} ] || echo 10.244.0.7 ;;
          esac
        }}
    """,
        looks,
    )


def test_webhook_wait_returns_once_an_endpoint_is_ready(tmp_path):
    fake, looks = _fake_kubectl(tmp_path, ready_after=3)
    result = run_sourced(fake + "wait_webhook knative-serving webhook && echo ready")
    assert result.stdout.strip() == "ready"
    assert looks.read_text().strip() == "3"


def test_webhook_wait_past_its_deadline_names_what_it_waited_for(tmp_path):
    fake, _ = _fake_kubectl(tmp_path, ready_after=10**6)
    result = run_sourced(
        "WEBHOOK_DEADLINE_SECONDS=0\n" + fake + "wait_webhook cert-manager cert-manager-webhook"
    )
    assert result.returncode == 1
    assert (
        "the webhook Service cert-manager/cert-manager-webhook had no ready endpoint after 0 s"
        in (result.stderr)
    )


def test_kind_load_falls_back_to_an_image_archive(tmp_path):
    # kind and docker as shell functions that record their calls; `kind load docker-image` fails
    # as it does with Docker's containerd image store.
    calls = tmp_path / "calls"
    result = run_sourced(
        f"""
        TMPDIR="{tmp_path}"
        log() {{ :; }}
        kind() {{
          echo "kind $1 $2" >>"{calls}"
          [ "$2" != docker-image ] || return 1
          [ -f "$3" ] && echo "archive existed" >>"{calls}"
        }}
        docker() {{ echo "docker $1" >>"{calls}"; : >"$3"; }}
        kind_load dev.local/video2audio-auth:src-0
        """
    )
    assert result.returncode == 0, result.stderr
    assert calls.read_text().splitlines() == [
        "kind load docker-image",
        "docker save",
        "kind load image-archive",
        "archive existed",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["calls"]  # the archive is removed
