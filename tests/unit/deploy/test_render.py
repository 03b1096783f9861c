"""deploy.sh's pure parts under BASH_COMPAT=3.2: arguments, kn arguments, Secrets, image tags."""

from __future__ import annotations

import hashlib
import re
import shutil

from tests.support.paths import ROOT
from tests.support.shell import compat32_env, run_deploy, run_sourced


def test_unknown_command_is_refused_with_a_hint():
    result = run_deploy("deploy-everything", check=False)
    assert result.returncode == 1
    assert "unknown command 'deploy-everything' (try --help)" in result.stderr


def test_unknown_function_is_refused_naming_the_functions():
    result = run_deploy("kn-service-args", "transcode", check=False)
    assert result.returncode != 0
    expected = "unknown function 'transcode' (one of: auth upload convert notify expire)"
    assert expected in result.stderr


def test_kn_arguments_name_the_content_addressed_image():
    tag = run_deploy("image-tag").stdout.strip()
    args = run_deploy("kn-service-args", "convert").stdout.splitlines()
    assert args[args.index("--image") + 1] == f"dev.local/video2audio-convert:{tag}"


def test_kn_arguments_without_extra_annotations_render_under_set_u():
    # notify has no extra revision annotation: the empty array that bash 3.2 calls unbound.
    args = run_deploy("kn-service-args", "notify").stdout.splitlines()
    assert args[0] == "notify"
    assert "--annotation-revision" not in args
    assert args[-1] == "--cluster-local"


def test_kn_arguments_carry_a_functions_revision_annotation():
    args = run_deploy("kn-service-args", "convert").stdout.splitlines()
    i = args.index("--annotation-revision")
    assert args[i + 1] == "autoscaling.knative.dev/scale-down-delay=60s"


def test_image_tag_override_is_used_as_it_is():
    env = compat32_env(V2A_IMAGE_TAG="0.1.0")
    assert run_deploy("images", env=env).stdout.splitlines()[0] == (
        "auth dev.local/video2audio-auth:0.1.0"
    )


def _context_copy(tmp_path):
    for rel in ("deploy/docker", "src", "functions"):
        shutil.copytree(ROOT / rel, tmp_path / rel, ignore=shutil.ignore_patterns("__pycache__"))
    for rel in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / rel, tmp_path / rel)
    return tmp_path


def _tag_of(root):
    result = run_sourced(f'ROOT="{root}"; image_tag')
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_image_tag_changes_when_code_in_the_build_context_changes(tmp_path):
    root = _context_copy(tmp_path)
    before = _tag_of(root)
    main = root / "functions" / "convert" / "main.py"
    main.write_text(main.read_text() + "\n# changed\n")
    assert _tag_of(root) != before


def test_image_tag_ignores_byte_code_and_file_times(tmp_path):
    root = _context_copy(tmp_path)
    before = _tag_of(root)
    cache = root / "src" / "video2audio" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "settings.cpython-311.pyc").write_bytes(b"\x00")
    (root / "pyproject.toml").touch()
    assert _tag_of(root) == before


def test_generated_secrets_are_fresh_random_values_each_time():
    def jwt_secret():
        return re.search(r"^  JWT_SECRET: (\S+)$", run_deploy("secrets").stdout, re.M).group(1)

    first, second = jwt_secret(), jwt_secret()
    assert first != second


def test_generated_secrets_are_the_three_the_deployment_reads():
    names = re.findall(r"^  name: (\S+)$", run_deploy("secrets").stdout, re.M)
    assert names == [
        "postgres-credentials",
        "mongodb-credentials",
        "video2audio-secrets",
    ]


def test_passwords_are_percent_encoded_inside_urls():
    result = run_sourced("urlencode 'p@ss w/rd:%'")
    assert result.stdout == "p%40ss%20w%2Frd%3A%25"


def test_sha256_falls_back_to_shasum_when_sha256sum_is_missing(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # Only what the function and shasum (a perl script) need; no sha256sum, as on macOS.
    for tool in ("shasum", "perl"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    result = run_sourced(f'PATH="{bin_dir}"; printf abc | sha256')
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == hashlib.sha256(b"abc").hexdigest()


def test_sha256_without_any_tool_says_what_to_install(tmp_path):
    result = run_sourced(f'PATH="{tmp_path}"; printf abc | sha256')
    assert result.returncode == 1
    assert "neither sha256sum nor shasum is installed" in result.stderr
