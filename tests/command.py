"""The `helpdesk` command run as an operator would: a subprocess on one SQLite file, with none of
the caller's HELPDESK_* settings leaking in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HELPDESK = [sys.executable, "-m", "helpdesk.cli"]


def run_helpdesk(
    args: list[str], database: Path, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """`helpdesk <args>` on `database`, its instance folder beside it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HELPDESK_")}
    env.update(
        {
            "HELPDESK_DATABASE_URL": f"sqlite:///{database}",
            "HELPDESK_INSTANCE_PATH": str(database.parent / "instance"),
        }
    )
    return subprocess.run(
        [*HELPDESK, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
