"""Requests/s of our Tencent Cloud client against the local emulator, beside the official SDK.

Same calls (scf ListNamespaces and a request-response Invoke of an echo function), same server,
same machine. Prints figures and the ratio; asserts nothing. Run:

    .venv/bin/python benchmarks/client.py [--requests 400] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from asw_airflow.tencentcloud.client import Credentials, TencentCloudClient
from asw_airflow.tencentcloud.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY

# The emulator runs in its own process so it does not share the client's GIL.
SERVE = (
    "import argparse, sys\n"
    "from asw_airflow.tencentcloud.emulator import add_arguments, run\n"
    "p = argparse.ArgumentParser(); add_arguments(p)\n"
    "sys.exit(run(p.parse_args(sys.argv[1:])))\n"
)

ECHO = "def main_handler(event, context):\n    return event\n"
CALLS = {
    "ListNamespaces": {"Limit": 1},
    "Invoke": {"FunctionName": "echo", "InvocationType": "RequestResponse", "ClientContext": json.dumps({"k": 1})},
}


def rate(requests: int, run: Callable[[], None]) -> float:
    began = time.perf_counter()
    run()
    return requests / (time.perf_counter() - began)


def sdk_client(endpoint: str):
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.scf.v20180416 import scf_client

    host = endpoint.removeprefix("http://")
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=host, keepAlive=True))
    return scf_client.ScfClient(credential.Credential(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY), "ap-guangzhou", profile)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    n = args.requests

    with tempfile.TemporaryDirectory() as functions:
        (Path(functions) / "echo").mkdir()
        (Path(functions) / "echo" / "index.py").write_text(ECHO)
        server = subprocess.Popen([sys.executable, "-c", SERVE, "--functions", functions], stdout=subprocess.PIPE, text=True)
        try:
            endpoint = server.stdout.readline().strip().removeprefix("listening on ")
            ours = TencentCloudClient(Credentials(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY), "ap-guangzhou", endpoint=endpoint)
            sdk = sdk_client(endpoint)
            print(f"emulator {endpoint} (own process), {n} requests per figure, python {sys.version.split()[0]}")
            print(f"{'action':<16}{'sdk sync':>12}{'ours sync':>12}{'ratio':>8}{'ours async':>12}{'ratio':>8}")
            for action, params in CALLS.items():
                sdk.call_json(action, params)  # warm up both connection pools
                ours.call("scf", action, params)
                sdk_rps = rate(n, lambda: [sdk.call_json(action, params) for _ in range(n)])
                sync_rps = rate(n, lambda: [ours.call("scf", action, params) for _ in range(n)])

                async def burst() -> None:
                    gate = asyncio.Semaphore(args.concurrency)

                    async def one() -> None:
                        async with gate:
                            await ours.acall("scf", action, params)

                    await asyncio.gather(*(one() for _ in range(n)))
                    await ours.aclose()

                async_rps = rate(n, lambda: asyncio.run(burst()))
                print(
                    f"{action:<16}{sdk_rps:>10.0f}/s{sync_rps:>10.0f}/s{sync_rps / sdk_rps:>7.2f}x"
                    f"{async_rps:>10.0f}/s{async_rps / sdk_rps:>7.2f}x"
                )
            ours.close()
        finally:
            server.terminate()
            server.wait(10)
    print(f"async figures use {args.concurrency} concurrent requests; the SDK is sync-only (one at a time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
