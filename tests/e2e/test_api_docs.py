"""The API documentation pages (/docs) in headless Chromium against the running stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import RECORD_CSP_VIOLATIONS
from video2audio.web.openapi import api_description

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
FUNCTIONS = {
    "auth": ("auth_url", "Video2Audio auth API"),
    "upload": ("upload_url", "Video2Audio upload API"),
}


def operation_count(function: str) -> int:
    paths = api_description(f"video2audio.{function}")["paths"]
    return sum(len(item.keys() & HTTP_METHODS) for item in paths.values())


@pytest.fixture
def docs_page(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A page that records console errors, uncaught exceptions and CSP violations."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page, problems
    context.close()


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_the_docs_show_the_api_and_every_operation_without_errors(docs_page, stack, function):
    page, problems = docs_page
    url_attribute, title = FUNCTIONS[function]
    response = page.goto(f"{getattr(stack, url_attribute)}/docs")
    assert response.status == 200
    assert "script-src 'self';" in response.headers["content-security-policy"]
    expect(page.locator(".info .title")).to_contain_text(title)
    expect(page.locator(".opblock")).to_have_count(operation_count(function))
    # An operation opens to its responses, rendered from the description.
    page.locator(".opblock-summary", has_text="/healthz").first.click()
    expect(page.locator(".responses-table").first).to_be_visible()
    assert page.evaluate("window.cspViolations") == []
    assert problems == []
