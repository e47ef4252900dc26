"""What people read for the app's fixed values. Written once: the pages render these, and the
scripts read the same ones from the page (see `page_texts`)."""

from __future__ import annotations

from typing import Any

from ..models import Category, Status
from .activity import FEED_LENGTH, FEED_TEXTS

CATEGORY_LABELS: dict[Category, str] = {
    Category.FACILITIES: "Facilities",
    Category.IT: "IT",
    Category.SERVICES: "Services",
}

# A known issue's state as campus reads it: its ticket's status in plain words.
KNOWN_ISSUE_STATUS_LABELS: dict[Status, str] = {
    Status.OPEN: "Reported",
    Status.ACTIVE: "Being fixed",
    Status.CLOSED: "Fixed",
}


def page_texts() -> dict[str, Any]:
    """The texts the scripts show for what arrives live, as the server words them."""
    return {
        "categories": {category.value: label for category, label in CATEGORY_LABELS.items()},
        "known_issue_statuses": {
            status.value: label for status, label in KNOWN_ISSUE_STATUS_LABELS.items()
        },
        "feed": FEED_TEXTS,
        "feed_length": FEED_LENGTH,
    }
