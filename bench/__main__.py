"""`python -m bench [--quick] [--soak [--minutes N]]`: see bench/README.md."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from .config import FULL, QUICK, RESULTS_DIR
from .runner import Options, run


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmark Campus Helpdesk against its ceilings."
    )
    parser.add_argument("--quick", action="store_true", help="small scale, under a minute")
    parser.add_argument("--soak", action="store_true", help="the soak test instead of the table")
    parser.add_argument("--minutes", type=float, help="soak length (default: 5, quick: 0.5)")
    parser.add_argument(
        "--only", help="comma-separated scenario letters to run, e.g. 'a,g' (default: all)"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and its logs")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="sample the app with py-spy while the scenarios run (.svg flame graph, "
        ".json speedscope, else folded stacks)",
    )
    parser.add_argument(
        "--app-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra HELPDESK_<NAME> for the app, e.g. analytics_interval_seconds=3600",
    )
    parser.add_argument(
        "--no-deflate",
        action="store_true",
        help="clients do not offer permessage-deflate (browsers do): to see what it costs",
    )
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where to write")
    args = parser.parse_args(argv)
    if args.minutes is not None and not args.soak:
        parser.error("--minutes goes with --soak")
    return Options(
        scale=QUICK if args.quick else FULL,
        soak=args.soak,
        minutes=args.minutes,
        only=set(args.only.replace(",", "")) if args.only else None,
        pin=not args.no_pin,
        keep=args.keep,
        results=args.results,
        deflate=not args.no_deflate,
        profile=args.profile.resolve() if args.profile else None,
        app_settings=dict(_setting(parser, text) for text in args.app_setting),
    )


def _setting(parser: argparse.ArgumentParser, text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        parser.error(f"--app-setting wants NAME=VALUE, not {text!r}")
    return name.strip().lower(), value


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    try:
        return run(options)
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; every process the benchmark started has been stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
