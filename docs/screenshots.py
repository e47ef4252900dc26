"""Refresh the screenshots in docs/screenshots from a demo-seeded server.

.venv/bin/python docs/screenshots.py
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpdesk.seed import DEMO_PASSWORD as PASSWORD  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.live.server import LiveServer, server_env  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def sign_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = server_env(root)
        subprocess.run(
            [sys.executable, "-m", "helpdesk.cli", "seed-demo"],
            env=env,
            check=True,
            capture_output=True,
        )
        live = LiveServer(root, env).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                desk = {"viewport": {"width": 1280, "height": 860}, "base_url": live.url}
                phone = {
                    "viewport": {"width": 390, "height": 844},
                    "is_mobile": True,
                    "base_url": live.url,
                }
                alice = browser.new_context(**desk).new_page()
                alice.goto("/login")
                alice.screenshot(path=OUT / "login.png")
                sign_in(alice, "alice")
                alice.get_by_role("link", name="Report an issue").first.click()
                alice.get_by_label("What is the problem?").fill("No heating in Dorm B room 214")
                alice.get_by_label("Details").fill("The radiator is cold since last night.")
                alice.get_by_label("Facilities", exact=True).check()
                alice.get_by_label("Where?").fill("Dorm B, room 214")
                alice.screenshot(path=OUT / "report-form.png")
                alice.get_by_role("button", name="Send report").click()
                alice.wait_for_url(re.compile(r".*/tickets/\d+$"))
                ticket_url = alice.url

                sam = browser.new_context(**desk).new_page()
                sign_in(sam, "sam")
                sam.goto("/board")
                sam.locator(".card").first.wait_for()
                sam.screenshot(path=OUT / "board.png")
                sam.goto(ticket_url)
                sam.get_by_label("Reply to Alice Chen").fill("Sorry! A technician comes at 14:00.")
                sam.get_by_role("button", name="Send").click()
                sam.get_by_label("Internal note").check()
                sam.get_by_label("Reply to Alice Chen").fill("Valve part 7731-B, stock room 2.")
                sam.get_by_role("button", name="Send").click()
                sam.get_by_role("button", name="Start work").click()
                sam.locator("#ticket-status .status-active").wait_for()
                sam.screenshot(path=OUT / "ticket-staff.png")
                alice.locator(".message").filter(has_text="14:00").wait_for()
                alice.screenshot(path=OUT / "ticket-reporter.png")

                mobile = browser.new_context(**phone).new_page()
                sign_in(mobile, "alice")
                mobile.screenshot(path=OUT / "phone-dashboard.png")
                mobile.goto(ticket_url)
                mobile.screenshot(path=OUT / "phone-ticket.png")
                browser.close()
        finally:
            live.stop()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
