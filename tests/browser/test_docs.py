"""The API documentation at /docs renders the app's OpenAPI 3.1 document in a real browser."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.browser.conftest import Watch
from tests.live.server import LiveServer

OPERATIONS = (
    ("POST", "/api/v1/tickets"),
    ("GET", "/api/v1/tickets/{ticket_id}"),
    ("GET", "/api/v1/analytics/summary"),
)


def test_docs_list_the_operations_of_the_openapi_document(browser: Browser, live: LiveServer):
    context = browser.new_context(base_url=live.url)
    page = context.new_page()
    watch = Watch(live.url)
    watch.attach(context, page)
    try:
        page.goto("/docs")  # anyone may read it: no sign-in
        for method, path in OPERATIONS:
            operation = page.locator(".opblock-summary", has_text=path).filter(
                has=page.locator(".opblock-summary-method", has_text=method)
            )
            expect(operation.first).to_be_visible(timeout=15_000)  # the bundle is 1.4 MB
        expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
    finally:
        context.close()
    assert not watch.problems, "\n".join(watch.problems)
