"""``asw emulator``: serve the local Tencent Cloud (SCF and ASW APIs) on loopback until interrupted."""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading

from asw_airflow.tencentcloud.emulator import add_arguments


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "emulator",
        help="serve a local Tencent Cloud API 3.0 emulator (SCF, ASW) on loopback",
        description="Serve SCF and ASW on loopback. Clients sign with --secret-id/--secret-key "
        "(TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY); nested workflows run on the local engine.",
    )
    add_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from asw_airflow.tencentcloud.client import Credentials
    from asw_airflow.tencentcloud.local import local_cloud

    credentials = Credentials(args.secret_id, args.secret_key)
    with contextlib.ExitStack() as stack:
        try:
            cloud = stack.enter_context(local_cloud(
                args.functions, args.workflows, credentials=credentials, host=args.host, port=args.port,
                fault_rate=args.fault_rate, latency_ms=args.latency_ms, appid=args.appid,
            ))
        except OSError as error:  # the port is taken, or the address is not this host's
            print(f"asw emulator: cannot listen on {args.host}:{args.port}: {error.strerror or error}", file=sys.stderr)
            return 2
        print(f"listening on {cloud.emulator.endpoint}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0
