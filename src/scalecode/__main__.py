"""Command line: ``python -m scalecode {doctor,run,labs,results}``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scalecode", description="Scale Code, Not Servers")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="check the installation and show which backends are in use")
    run = sub.add_parser("run", help="execute every notebook and print the results table")
    run.add_argument("--only", help="run only notebooks whose file name contains this text, e.g. 01")
    labs = sub.add_parser("labs", help="generate labs/ from solutions/")
    labs.add_argument("--check", action="store_true", help="only report whether labs/ is up to date")
    sub.add_parser("results", help="print the results table of the last run")
    args = parser.parse_args(argv)

    if args.command == "doctor":
        from .doctor import main as doctor

        return doctor()
    if args.command == "run":
        from .runner import run_all

        return run_all(only=args.only)
    if args.command == "labs":
        from .config import repo_root
        from .labs import LabError, generate

        try:
            changed = generate(repo_root(), check_only=args.check)
        except LabError as exc:
            print(f"✗ {exc}", file=sys.stderr)
            return 1
        if args.check:
            if changed:
                print("✗ labs/ is out of date: " + ", ".join(changed) + "\n  fix: python -m scalecode labs")
                return 1
            print("✓ labs/ matches solutions/")
            return 0
        print("wrote " + ", ".join(changed) if changed else "labs/ already up to date")
        return 0
    if args.command == "results":
        from .results import print_table

        print_table()
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
