"""Category labels and activity-feed lines: worded once, for the pages and the scripts alike."""

from __future__ import annotations

import re
from pathlib import Path

from helpdesk.domain.activity import FEED_LENGTH, FEED_TEXTS, summarize
from helpdesk.domain.labels import CATEGORY_LABELS, page_texts

ROOT = Path(__file__).resolve().parents[2]
WORDING = {ROOT / "helpdesk/domain/labels.py", ROOT / "helpdesk/domain/activity.py"}


def test_feed_lines_fill_in_the_event_and_say_nobody_for_an_empty_assignee():
    ticket = {"id": 7, "title": "Lift {to} stuck", "to": "active", "assignee": None}
    assert summarize("ticket.status_changed", ticket) == "Lift {to} stuck is now active"
    assert summarize("ticket.assigned", ticket) == "Lift {to} stuck assigned to nobody"
    taken = {**ticket, "assignee": {"display_name": "Priya"}}
    assert summarize("ticket.assigned", taken) == "Lift {to} stuck assigned to Priya"
    message = {"author": {"display_name": "Sam"}, "body": "x" * 500}
    assert summarize("message.created", message) == ("Sam: " + "x" * 500)[:FEED_LENGTH]
    assert summarize("ticket.sla_warning", ticket) == "ticket.sla_warning"


def test_the_page_hands_the_scripts_the_same_words():
    texts = page_texts()
    assert texts["categories"] == {c.value: label for c, label in CATEGORY_LABELS.items()}
    assert texts["feed"] == FEED_TEXTS
    assert texts["feed_length"] == FEED_LENGTH


def test_category_labels_and_feed_lines_are_written_nowhere_else():
    openings = [re.split(r"\s*\{", text)[0] for text in FEED_TEXTS.values()]
    words = [*CATEGORY_LABELS.values(), *openings]
    wanted = "|".join(re.escape(word) for word in words if len(word) > 2)  # "IT" alone says little
    spelled = re.compile(rf"""["'`](?:{wanted})""")
    sources = [*ROOT.joinpath("helpdesk").rglob("*.py"), *ROOT.joinpath("static/js").glob("*.js")]
    found = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in sources
        if path not in WORDING
        for line in path.read_text().splitlines()
        if spelled.search(line)
    ]
    assert found == []
