"""The known-issue figures of the summary against a recount by hand of made-up outages."""

from __future__ import annotations

import random
import statistics
from datetime import timedelta

from helpdesk.analytics.queries import Window, summarize
from helpdesk.models import KnownIssue, Role, Status, Ticket, TicketMerge
from tests.analytics.test_summary import NOW, ticket
from tests.conftest import make_user


async def outage(reporter, staff, *, reported: timedelta, published: timedelta, duplicates):
    """A ticket reported `reported` ago, published `published` ago, with duplicates reported
    at the given ages and merged into it; returns what a person would count by hand."""
    original = await ticket(reporter, age=reported, location="Library")
    issue = await KnownIssue.create(
        ticket=original,
        public_title=f"Outage {original.id}",
        building="Library",
        published_by=staff,
        published_at=NOW - published,
        updated_at=NOW - published,
    )
    first_report = reported
    for age in duplicates:
        duplicate = await ticket(reporter, age=age, status=Status.CLOSED)
        await Ticket.filter(id=duplicate.id).update(merged_into_id=issue.id)
        await TicketMerge.create(ticket=duplicate, known_issue=issue, actor=staff, at=NOW)
        first_report = max(first_report, age)
    affected = 1 + len(duplicates)
    await Ticket.filter(id=original.id).update(known_issue_id=issue.id, affected_count=affected)
    return {
        "id": issue.id,
        "affected": affected,
        "merged": len(duplicates),
        "wait": round((first_report - published).total_seconds()),
    }


async def test_the_figures_agree_with_a_recount(app):
    rng = random.Random(17)
    reporter = await make_user("rita")
    staff = await make_user("sam", Role.STAFF)
    expected = []
    for _ in range(7):
        published = timedelta(hours=rng.randint(1, 200))
        reported = published + timedelta(minutes=rng.randint(0, 600))
        duplicates = [
            reported + timedelta(minutes=rng.randint(-300, 300)) for _ in range(rng.randint(0, 4))
        ]
        expected.append(
            await outage(
                reporter, staff, reported=reported, published=published, duplicates=duplicates
            )
        )
    old = await outage(
        reporter, staff, reported=timedelta(days=60), published=timedelta(days=59), duplicates=[]
    )
    figures = (await summarize(Window(days=30), NOW))["known_issues"]
    assert old["id"] not in {each["id"] for each in figures["top"]}, "published before the window"
    assert figures["published"] == len(expected)
    assert figures["affected_people"] == sum(each["affected"] for each in expected)
    assert figures["duplicates_merged"] == sum(each["merged"] for each in expected)
    waits = [each["wait"] for each in expected]
    assert figures["seconds_to_publish"]["median"] == statistics.median(waits)
    assert figures["seconds_to_publish"]["p90"] == round(
        statistics.quantiles(waits, n=10, method="inclusive")[-1], 1
    )
    by_id = {each["id"]: each for each in figures["top"]}
    for each in expected:
        assert by_id[each["id"]]["seconds_to_publish"] == each["wait"]
        assert by_id[each["id"]]["duplicates_merged"] == each["merged"]
    counts = [each["affected_count"] for each in figures["top"]]
    assert counts == sorted(counts, reverse=True)


async def test_no_known_issue_gives_zeros_and_no_percentiles(app):
    figures = (await summarize(Window(days=30), NOW))["known_issues"]
    assert figures == {
        "published": 0,
        "affected_people": 0,
        "duplicates_merged": 0,
        "seconds_to_publish": {"median": None, "p90": None},
        "top": [],
    }
