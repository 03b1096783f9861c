"""Headless Chromium for the end-to-end tests: Debian's, driven by Playwright, never downloaded."""

from __future__ import annotations

from playwright.sync_api import Page, expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Every Content-Security-Policy violation a page causes, recorded from the first script on.
RECORD_CSP_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


def log_in_on_page(page: Page, username: str, password: str) -> None:
    """Log in through the page's form, as a person would, and wait until it shows the user."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#session-user")).to_have_text(username)
