"""``asw conformance CORPUS.jsonl``: pass counts of an engine on a recorded-execution corpus.

Exit 0 when every case run passed, 1 when one failed, 2 when the corpus cannot be read (the
message names the line and what is wrong with it).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys

from asw_airflow import conformance


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("conformance", help="run a corpus of recorded executions and count passes")
    parser.add_argument("corpus", help="JSON Lines file, one recorded execution per line")
    parser.add_argument("--engine", choices=sorted(conformance.ENGINES), default="local")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--only", metavar="SUBSTRING", help="run only cases whose id contains SUBSTRING")
    parser.add_argument("--functions", metavar="DIR",
                        help="serve cloud functions DIR/<FunctionName>/index.py from a local emulator for scf Tasks")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        cases = conformance.load_corpus(args.corpus)
    except OSError as exc:
        print(f"asw conformance: cannot read corpus {args.corpus}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except conformance.CorpusError as exc:
        print(f"asw conformance: corpus {args.corpus}: {exc}", file=sys.stderr)
        return 2
    if args.only:
        cases = [case for case in cases if args.only in case.id]
    engine = functools.partial(conformance.ENGINES[args.engine], functions=args.functions)
    report = conformance.run_corpus(cases, engine)
    summary = report.to_json()
    if args.format == "json":
        print(json.dumps(summary, ensure_ascii=False, default=str))
    else:
        for area, counts in summary["by_area"].items():
            run_count = counts["passed"] + counts["failed"]
            print(f"{counts['passed']:4d}/{run_count:<4d} {area}")
        for failure in summary["failures"]:
            print(f"FAIL {failure['id']}: expected {json.dumps(failure['expected'])[:300]} got {json.dumps(failure['got'], default=str)[:300]}")
        for language, counts in summary["by_language"].items():
            print(f"{language}: {counts['passed']}/{counts['total']} passed")
        print(f"total: {summary['passed']} passed, {summary['failed']} failed, {summary['skipped']} skipped")
    return 0 if summary["failed"] == 0 else 1
