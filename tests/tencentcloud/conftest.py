from __future__ import annotations

import json
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from asw_airflow.tencentcloud.client import Credentials, RetryPolicy, TencentCloudClient
from asw_airflow.tencentcloud.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, StopSignal, start_emulator

FUNCTIONS = {
    "echo": "def main_handler(event, context):\n    return {'event': event, 'function': context['function_name']}\n",
    "greeting": "def main_handler(event, context):\n    return 'hello ' + event.get('name', 'world')\n",
    "verbatim": "def main_handler(event, context):\n    return event['text']\n",
    "boom": "def main_handler(event, context):\n    raise ValueError('bad input: ' + str(event.get('n')))\n",
    "slow": "import time\n\ndef main_handler(event, context):\n    time.sleep(event.get('seconds', 5))\n    return 'done'\n",
    # Appends a line to ``event["file"]`` per run: tests count runs without racing a thread.
    "count": "def main_handler(event, context):\n    with open(event['file'], 'a') as f:\n        f.write('ran\\n')\n    return 'counted'\n",
    # Runs until the test creates the file ``event["gate"]``: no race with a loaded machine.
    "gated": (
        "import os, time\n\ndef main_handler(event, context):\n"
        "    deadline = time.time() + 30\n"
        "    while not os.path.exists(event['gate']) and time.time() < deadline:\n"
        "        time.sleep(0.01)\n"
        "    return 'done'\n"
    ),
}


class FakeRunner:
    """Stands in for the engine: ``{"fail": ...}`` fails, ``{"hold": true}`` waits for ``release`` or a stop."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, str]] = []
        self.release = threading.Event()

    def __call__(self, definition: str, input: Any, name: str, stop: StopSignal) -> dict:
        self.calls.append((input, name))
        start_at = json.loads(definition)["StartAt"]
        if isinstance(input, dict) and input.get("hold"):
            stop.on_set(self.release.set)
            self.release.wait(10)
        if isinstance(input, dict) and input.get("fail"):
            return {"status": "FAILED", "error": "Child.Failed", "cause": input["fail"], "history": []}
        return {
            "status": "SUCCEED",
            "output": {"child": start_at, "input": input},
            "history": [{"EventCategory": "TaskNodeEnter", "StepName": start_at}],
        }


@pytest.fixture(scope="session")
def functions_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("functions")
    for name, source in FUNCTIONS.items():
        (root / name).mkdir()
        (root / name / "index.py").write_text(textwrap.dedent(source))
    (root / "slow" / "config.json").write_text(json.dumps({"Timeout": 0.5}))
    return root


@pytest.fixture(scope="session")
def workflows_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workflows")
    (root / "child.json").write_text(json.dumps({"StartAt": "Only", "States": {"Only": {"Type": "Succeed"}}}))
    return root


@pytest.fixture
def runner() -> FakeRunner:
    return FakeRunner()


@pytest.fixture
def emulator(functions_dir: Path, workflows_dir: Path, runner: FakeRunner):
    with start_emulator(functions_dir, workflows_dir, workflow_runner=runner, seed=7) as handle:
        yield handle


def make_client(endpoint: str, **kwargs: Any) -> TencentCloudClient:
    kwargs.setdefault("retry", RetryPolicy(max_attempts=4, base_seconds=0.001, cap_seconds=0.005))
    return TencentCloudClient(Credentials(DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY), "ap-guangzhou", endpoint=endpoint, **kwargs)


@pytest.fixture
def client(emulator):
    with make_client(emulator.endpoint) as c:
        yield c
