"""Result rows, the console table, and the files in bench/results/: one JSON and one markdown
file per day and mode, which the benchmark and the soak each update with their own part."""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

PASS, MISS, NOT_YET, ERROR, INFO = "PASS", "MISS", "not available yet", "ERROR", "INFO"


@dataclass
class Row:
    """One figure beside its ceiling: ratio = value ÷ ceiling; status against the goal."""

    key: str
    scenario: str
    metric: str
    value: float | None
    unit: str
    ceiling: float | None = None
    ceiling_name: str = ""
    goal: str = ""
    status: str = INFO
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.ceiling:
            return None
        return self.value / self.ceiling

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


def verdict(ok: bool) -> str:
    return PASS if ok else MISS


def number(value: float | None) -> str:
    """Three significant figures, thousands separated: figures to read, not to copy."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _cells(row: dict[str, Any]) -> list[str]:
    ceiling = number(row["ceiling"])
    if row["ceiling"] is not None and row["ceiling_name"]:
        ceiling = f"{ceiling} ({row['ceiling_name']})"
    value = number(row["value"])
    return [
        row["key"],
        row["scenario"],
        row["metric"],
        f"{value} {row['unit']}" if row["value"] is not None else "—",
        ceiling,
        number(row["ratio"]),
        row["goal"],
        row["status"],
    ]


HEADER = ["#", "scenario", "metric", "app", "ceiling", "ratio", "goal", "result"]


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def console_table(rows: list[dict[str, Any]]) -> str:
    cells = [HEADER, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADER))]
    out = []
    for n, line in enumerate(cells):
        out.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if n == 0:
            out.append("  ".join("-" * width for width in widths))
    notes = [f"  {row['key']}: {row['note']}" for row in rows if row["note"]]
    return "\n".join(out + (["", "notes:", *notes] if notes else []))


def results_paths(directory: Path, mode: str, day: date) -> tuple[Path, Path]:
    stem = day.isoformat() + ("-quick" if mode == "quick" else "")
    return directory / f"{stem}.json", directory / f"{stem}.md"


def _write(path: Path, text: str) -> None:
    """Atomically, so an interrupted run never leaves half a file (`*.tmp` is git-ignored)."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def save(directory: Path, mode: str, part: str, content: dict[str, Any]) -> tuple[Path, Path]:
    """Put `content` under `part` ("benchmark" or "soak") of today's results, keeping the other."""
    directory.mkdir(parents=True, exist_ok=True)
    day = date.today()
    json_path, md_path = results_paths(directory, mode, day)
    document: dict[str, Any] = {}
    if json_path.exists():
        try:
            document = json.loads(json_path.read_text())
        except ValueError:
            document = {}
    document.update({"date": day.isoformat(), "mode": mode, "machine": content["machine"]})
    document[part] = content
    _write(json_path, json.dumps(document, indent=2, default=str) + "\n")
    _write(md_path, render_markdown(document))
    return json_path, md_path


def _machine_lines(machine: dict[str, Any]) -> list[str]:
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
    return [
        f"- CPU: {machine['cpu']}, {machine['cores']} cores",
        f"- RAM: {machine['ram_gib']} GiB",
        f"- Python: {machine['python']}",
        f"- Kernel: {machine['kernel']}",
        f"- Packages: {packages}",
    ]


def _part(title: str, part: dict[str, Any]) -> list[str]:
    lines = [f"## {title}", ""]
    lines += [f"- {line}" for line in part.get("conditions", [])]
    lines += ["", markdown_table(part["rows"]), ""]
    notes = [f"- **{row['key']}**: {row['note']}" for row in part["rows"] if row["note"]]
    if notes:
        lines += ["Notes:", "", *notes, ""]
    return lines


def render_markdown(document: dict[str, Any]) -> str:
    lines = [f"# Campus Helpdesk benchmark, {document['date']} ({document['mode']})", ""]
    lines += ["Machine:", "", *_machine_lines(document["machine"]), ""]
    lines += [
        "Every figure is measured in the same run as its ceiling, on the same machine; ratio is",
        "app ÷ ceiling. For latencies a ratio above 1 means the app is slower than the ceiling.",
        "",
    ]
    if "benchmark" in document:
        lines += _part("Benchmark", document["benchmark"])
    if "soak" in document:
        lines += _part("Soak", document["soak"])
    return "\n".join(lines).rstrip() + "\n"
