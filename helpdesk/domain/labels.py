"""What people read for the app's fixed values. Written once: the pages render these, and the
scripts read the same ones from the page (see `page_texts`)."""

from __future__ import annotations

from typing import Any

from ..models import Category
from .activity import FEED_LENGTH, FEED_TEXTS

CATEGORY_LABELS: dict[Category, str] = {
    Category.FACILITIES: "Facilities",
    Category.IT: "IT",
    Category.SERVICES: "Services",
}


def page_texts() -> dict[str, Any]:
    """The texts the scripts show for what arrives live, as the server words them."""
    return {
        "categories": {category.value: label for category, label in CATEGORY_LABELS.items()},
        "feed": FEED_TEXTS,
        "feed_length": FEED_LENGTH,
    }
