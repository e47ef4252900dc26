"""The API documentation at /docs renders the app's OpenAPI 3.1 document in a real browser."""

from __future__ import annotations

from playwright.sync_api import expect

OPERATIONS = (
    ("POST", "/api/v1/tickets"),
    ("GET", "/api/v1/tickets/{ticket_id}"),
    ("GET", "/api/v1/analytics/summary"),
)


def test_docs_list_the_operations_of_the_openapi_document(open_session):
    page = open_session("alice").page
    page.goto("/docs")
    for method, path in OPERATIONS:
        operation = page.locator(".opblock-summary", has_text=path).filter(
            has=page.locator(".opblock-summary-method", has_text=method)
        )
        expect(operation.first).to_be_visible()
    expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
