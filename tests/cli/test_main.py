"""``asw`` itself: an unexpected exception is one line on stderr and exit 2, unless ASW_DEBUG=1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asw_airflow.cli import main

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


@pytest.fixture
def broken_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A valid workflow whose engine fails in a way no command expects."""
    def explode(*args: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr("asw_airflow.cli.run.run_local", explode)
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(PASS))
    return path


def test_an_unexpected_exception_is_one_line_and_exit_2(broken_engine: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("ASW_DEBUG", raising=False)
    assert main(["run", str(broken_engine)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("asw run: unexpected error: ZeroDivisionError: boom "
                            "(set ASW_DEBUG=1 to see the traceback)\n")


def test_asw_debug_lets_the_traceback_through(broken_engine: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASW_DEBUG", "1")
    with pytest.raises(ZeroDivisionError, match="boom"):
        main(["run", str(broken_engine)])


def test_a_non_utf8_input_file_is_no_traceback(broken_engine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("ASW_DEBUG", raising=False)
    binary = tmp_path / "bin.in"
    binary.write_bytes(b'{"a": "\xff"}')
    assert main(["run", str(broken_engine), "--input", f"@{binary}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("asw run: ") and "Traceback" not in err and len(err.splitlines()) == 1
