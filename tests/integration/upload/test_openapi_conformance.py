"""Schemathesis against the running upload function: no server error, nothing undescribed."""

from __future__ import annotations

import pytest
import requests
from hypothesis import HealthCheck, settings

from tests.support.openapi import CHECKS, described_api
from video2audio.web.openapi import api_description

api = described_api("video2audio.upload")


def test_the_running_function_serves_the_packaged_description(served_upload):
    served = requests.get(f"{served_upload}/openapi.json", timeout=10).json()
    assert served == api_description("video2audio.upload")


@pytest.mark.timeout(90)
@api.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_keeps_to_the_description(case, served_upload, served_upload_user):
    case.call_and_validate(
        base_url=served_upload, headers=served_upload_user.headers, checks=CHECKS
    )
