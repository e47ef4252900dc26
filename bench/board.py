"""`python -m bench.board [--tickets N] [--keep]`: the staff board with thousands of open tickets.

Seeds a database the way the benchmark does (bench/seed.py: by default 50,000 tickets of which
about 5,000 are open), serves it with `helpdesk serve`, and measures:

- the server: `GET /board` (three columns of a page each, with their full counts), and a search
  by number, by words and by a reporter's name through the API and the board;
- a real browser (Debian's chromium through Playwright): time to first render of the board, to
  its scripts being ready and to the board room being joined; the script time of 100 live events
  and the time until all 100 show, first on the board as it opens and then with every open card
  shown (each column's "Show more" followed to its end).

The numbers go to bench/results/<date>-board.{json,md}; nothing here is a pass or fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, async_playwright

from .config import COOKIE_NAME, RESULTS_DIR
from .population import Plan
from .runner import workspace
from .seed import copy_database, seed
from .server import app_env, start_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EVENTS = 100
SEARCHES = 20  # of each kind
STAFF_ID = 1  # bench/population.py: staff come first

# Before the page's own scripts: when the board room is joined, and how long the page's handlers
# take over each live event (the synchronous part: the script and the DOM changes it makes).
PROBE = """
(() => {
  const probe = window.__boardProbe = { joinedAt: null, readyAt: null, eventMs: [] };
  // At document start there is no <html> yet: watch the document for its attribute.
  new MutationObserver((_, observer) => {
    if (document.documentElement?.dataset.live === "ready") {
      probe.readyAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-live"] });
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    addEventListener(type, listener, options) {
      if (type !== "message") return super.addEventListener(type, listener, options);
      return super.addEventListener(type, (message) => {
        const started = performance.now();
        listener(message);
        const frame = JSON.parse(message.data);
        if (frame.type === "joined" && frame.room === "board") probe.joinedAt = performance.now();
        if (frame.type === "event" && frame.room === "board" && frame.kind.startsWith("ticket.")) {
          probe.eventMs.push(performance.now() - started);
        }
      }, options);
    }
  };
})();
"""


@dataclass
class Results:
    tickets: int
    open_tickets: int
    figures: dict[str, Any] = field(default_factory=dict)


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
        "max_ms": round(ordered[-1], 2),
        "n": len(ordered),
    }


async def until(page: Page, predicate: str, arg: Any = None, within: float = 60) -> None:
    """Poll `predicate` in the page: the page's content security policy forbids the string
    evaluation Playwright's wait_for_function uses."""
    deadline = time.monotonic() + within
    while not await page.evaluate(predicate, arg):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {within} s: {predicate}")
        await asyncio.sleep(0.01)


async def timed_get(client: httpx.AsyncClient, path: str, **params: str) -> tuple[float, Any]:
    started = time.perf_counter()
    response = await client.get(path, params=params)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed, response


async def server_side(client: httpx.AsyncClient, results: Results, rng: random.Random) -> None:
    """The board page itself, then searches for tickets anywhere in the history."""
    board = [await timed_get(client, "/board") for _ in range(10)]
    html = board[-1][1].text
    results.figures["GET /board"] = {
        **summary([ms for ms, _ in board]),
        "cards_rendered": html.count('class="card priority-'),
        "html_kib": round(len(html.encode()) / 1024, 1),
    }
    rows = (await client.get("/api/v1/tickets", params={"limit": 1})).json()["items"]
    newest = rows[0]["id"]
    wanted = [rng.randint(1, newest) for _ in range(SEARCHES)]
    tickets = [(await client.get(f"/api/v1/tickets/{each}")).json() for each in wanted]
    kinds = {
        "number": [f"#{ticket['id']}" for ticket in tickets],
        "words": [ticket["location"] for ticket in tickets],  # "Dorm B, room 214"
        "reporter": [ticket["reporter"]["display_name"] for ticket in tickets],
    }
    for kind, queries in kinds.items():
        api_ms, board_ms, found = [], [], 0
        for ticket, q in zip(tickets, queries, strict=True):
            ms, response = await timed_get(client, "/api/v1/tickets", q=q, limit="50")
            api_ms.append(ms)
            found += ticket["id"] in {each["id"] for each in response.json()["items"]}
            ms, _ = await timed_get(client, "/board", q=q)
            board_ms.append(ms)
        results.figures[f"search by {kind}: GET /api/v1/tickets?q="] = {
            **summary(api_ms),
            "found_on_first_page": f"{found}/{len(tickets)}",
        }
        results.figures[f"search by {kind}: GET /board?q="] = summary(board_ms)


async def live_events(
    page: Page, client: httpx.AsyncClient, targets: list[int], label: str, results: Results
) -> None:
    """100 changes made over HTTP (half a new location, half another priority), each arriving
    as a board event: the page's handler time per event, and the time until every card shows it."""
    await page.evaluate("window.__boardProbe.eventMs = []")
    shown = await page.evaluate(
        'ids => ids.map(id => document.querySelector(`.card[data-ticket-id="${id}"]`)'
        ".dataset.priority)",
        targets[:EVENTS],
    )
    started = time.perf_counter()

    async def change(n: int, ticket_id: int) -> tuple[int, int]:
        if n % 2:
            body = {"priority": "high" if shown[n] != "high" else "low"}
        else:
            body = {"location": f"Bench hall, room {n}"}
        response = await client.patch(f"/api/v1/tickets/{ticket_id}", json=body)
        response.raise_for_status()
        return ticket_id, response.json()["version"]

    versions = dict(
        await asyncio.gather(*(change(n, each) for n, each in enumerate(targets[:EVENTS])))
    )
    # Waiting costs the page nothing while the events arrive (a query of 100 cards every few
    # milliseconds would be measured with them): a timer counts the events handled, and the
    # cards are checked once they are all in.
    await page.evaluate(
        """n => new Promise((done) => {
             const handled = () => window.__boardProbe.eventMs.length >= n;
             const check = () => (handled() ? done() : setTimeout(check, 20));
             check();
           })""",
        len(versions),
    )
    arrived = (time.perf_counter() - started) * 1000
    await until(
        page,
        """versions => Object.entries(versions).every(([id, version]) => {
             const card = document.querySelector(`.card[data-ticket-id="${id}"]`);
             return card && Number(card.dataset.version) >= version;
           })""",
        versions,
    )
    handler = await page.evaluate("window.__boardProbe.eventMs")
    layout = await page.evaluate(
        "(() => { const t = performance.now(); document.body.getBoundingClientRect();"
        " return performance.now() - t; })()"
    )
    results.figures[f"100 live events, {label}"] = {
        "cards_on_page": await page.locator(".card").count(),
        "events_handled": len(handler),
        "handler_total_ms": round(sum(handler), 1),
        "handler_per_event": summary(handler) if handler else None,
        "layout_after_ms": round(layout, 2),
        "requests_sent_to_all_shown_ms": round(arrived, 1),
    }


async def in_browser(base: str, cookie: str, client: httpx.AsyncClient, results: Results) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        await context.add_cookies([{"name": COOKIE_NAME, "value": cookie, "url": base}])
        await context.add_init_script(PROBE)
        page = await context.new_page()
        loads = []
        for _ in range(5):
            await page.goto(f"{base}/board")
            if not page.url.endswith("/board"):
                raise RuntimeError(f"the board was not shown: {page.url}")
            await until(page, "() => window.__boardProbe.joinedAt !== null")
            loads.append(
                await page.evaluate(
                    """(() => {
                      const nav = performance.getEntriesByType("navigation")[0];
                      const paint = performance.getEntriesByName("first-contentful-paint")[0];
                      return { html: nav.responseEnd,
                               dom_content_loaded: nav.domContentLoadedEventEnd,
                               first_contentful_paint: paint ? paint.startTime : null,
                               scripts_ready: window.__boardProbe.readyAt,
                               board_room_joined: window.__boardProbe.joinedAt };
                    })()"""
                )
            )
        results.figures["first render of /board (ms from navigation start)"] = {
            name: summary([each[name] for each in loads if each[name] is not None])
            for name in loads[0]
        }
        shown = [  # the first page of the open and of the active column
            int(each)
            for each in await page.locator(
                'ol.cards[data-status="open"] .card, ol.cards[data-status="active"] .card'
            ).evaluate_all("cards => cards.map(c => c.dataset.ticketId)")
        ]
        await live_events(page, client, shown, "the board as it opens", results)

        started = time.perf_counter()
        column = page.locator('section.column[data-status="open"]')
        while await column.locator(".show-more").count():
            before = await column.locator(".card").count()
            await column.locator(".show-more").evaluate("button => button.click()")
            await until(
                page,
                "n => document.querySelectorAll('section.column[data-status=\"open\"] .card')"
                ".length > n",
                before,
            )
        every = (time.perf_counter() - started) * 1000
        open_ids = [
            int(each)
            for each in await column.locator(".card").evaluate_all(
                "cards => cards.map(c => c.dataset.ticketId)"
            )
        ]
        results.figures["every open card shown (Show more to the end)"] = {
            "cards": len(open_ids),
            "ms": round(every, 1),
        }
        spread = random.Random(7).sample(open_ids, EVENTS)
        await live_events(page, client, spread, "every open card shown", results)
        await browser.close()


def write(results: Results, name: str) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stem = RESULTS_DIR / f"{date.today().isoformat()}-{name}"
    body = {"tickets": results.tickets, "open": results.open_tickets, **results.figures}
    stem.with_suffix(".json").write_text(json.dumps(body, indent=2) + "\n")
    lines = [
        f"# The board at scale, {date.today().isoformat()}",
        "",
        f"{results.tickets:,} tickets seeded (bench/seed.py, over 90 days), "
        f"{results.open_tickets:,} of them open; one `helpdesk serve` on SQLite; "
        "headless chromium.",
        "",
    ]
    for name, figure in results.figures.items():
        lines.append(f"- **{name}**: `{json.dumps(figure)}`")
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    return stem.with_suffix(".md")


async def main(tickets: int, keep: bool, open_first: int = 0) -> Path:
    async with workspace(keep) as (root, children):
        plan = Plan(
            staff=10, reporters=5_000, tickets=tickets, messages=tickets, open_prefix=open_first
        )
        template = root / "seeded.sqlite3"
        started = time.perf_counter()
        seeded = await seed(app_env(root, template), template, plan)
        print(f"seeded {tickets:,} tickets in {time.perf_counter() - started:.0f} s", flush=True)
        database = copy_database(seeded, root / "app" / "board.sqlite3")
        app = await start_app(children, root, database, None)
        base = app.http_urls[0]
        cookie = seeded.cookies[STAFF_ID]
        async with httpx.AsyncClient(
            base_url=base, cookies={COOKIE_NAME: cookie}, timeout=60
        ) as client:
            counted = await client.get("/api/v1/tickets/count", params={"status": "open"})
            results = Results(tickets, counted.json()["count"])
            await server_side(client, results, random.Random(2026))
            await in_browser(base, cookie, client, results)
        return write(results, "board" if not open_first else f"board-{tickets}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.board", description=__doc__)
    parser.add_argument("--tickets", type=int, default=50_000, help="tickets to seed")
    parser.add_argument(
        "--open-first",
        type=int,
        default=0,
        help="the oldest N tickets are open (besides about a tenth of the others): "
        "5,000 open tickets from a small, quickly seeded database",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and its logs")
    args = parser.parse_args()
    print(f"wrote {asyncio.run(main(args.tickets, args.keep, args.open_first))}")
    sys.exit(0)
