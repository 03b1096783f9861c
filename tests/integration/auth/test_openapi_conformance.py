"""Schemathesis against the running auth function: no server error, nothing undescribed."""

from __future__ import annotations

import pytest
import requests
from hypothesis import HealthCheck, settings

from tests.support.openapi import CHECKS, bearer, described_api
from video2audio.web.openapi import api_description

api = described_api("video2audio.auth")


def test_the_running_function_serves_the_packaged_description(served_auth):
    served = requests.get(f"{served_auth}/openapi.json", timeout=10).json()
    assert served == api_description("video2audio.auth")


@pytest.mark.timeout(90)
@api.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_keeps_to_the_description(case, served_auth, served_auth_token):
    case.call_and_validate(base_url=served_auth, headers=bearer(served_auth_token), checks=CHECKS)
