"""The ``asw`` command line: one module per subcommand, each exposing ``register(subparsers)``.

Exit codes are shared by every subcommand: 0 success, 1 the workflow (or a check) failed,
2 usage, input or I/O errors. A command reports the errors it expects in its own words; anything
else is caught in ``main`` and printed as one line (exit 2), because a traceback tells a user of
the CLI nothing they can act on. ``ASW_DEBUG=1`` lets it propagate to show the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Each module registers one or more subcommands; imported lazily so `asw validate`
# does not pay for Airflow or httpx.
COMMAND_MODULES = (
    "asw_airflow.cli.validate",
    "asw_airflow.cli.run",
    "asw_airflow.cli.compile",
    "asw_airflow.cli.conformance",
    "asw_airflow.cli.emulator",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="asw", description="Validate, run and compile Tencent Cloud ASW (TCSL) workflows.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if os.environ.get("ASW_DEBUG") == "1":
            raise
        print(f"asw {args.command}: unexpected error: {type(error).__name__}: {error} "
              "(set ASW_DEBUG=1 to see the traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
