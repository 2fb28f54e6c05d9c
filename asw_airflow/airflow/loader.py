"""A folder of TCSL files (plus optional sidecars) -> DAGs, for a one-line DAG file.

    # dags/asw_workflows.py
    from pathlib import Path
    from asw_airflow.airflow.loader import load_workflows
    load_workflows(Path(__file__).parent / "workflows", globals())

Every ``*.json`` that is not a ``*.dag.json`` sidecar is a workflow; its file stem is the DAG
id. Parsing touches no network and no database. A broken workflow or sidecar must not take
the good ones down with it, yet must show up as an Airflow import error carrying the
validator's ``file:line:column`` diagnostics: it is bagged as a DAG whose ``validate()``
raises them, which DagBag records as an import error of the DAG file while it keeps every
other DAG. Airflow keeps one import error per DAG file (the last wins), so every stand-in
carries the diagnostics of all broken workflows of the folder. Any other exception out of
one workflow (a bug, an Airflow limit) is reported the same way, naming the file, rather
than failing the whole DAG file. Compiled DAGs are cached by file content, one version per
file, so a re-parse of unchanged files in the same process costs a hash.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, MutableMapping

from airflow.sdk import DAG

from asw_airflow.airflow.naming import dag_id_for
from asw_airflow.airflow.sidecar import SIDECAR_SUFFIX, Sidecar, parse_sidecar
from asw_airflow.diagnostics import DefinitionError

_cache: dict[Path, tuple[str, DAG]] = {}
"""Workflow file -> (digest of its content and sidecar, DAG): only the latest version is kept."""


class BrokenWorkflow(DAG):
    """Stands in for a workflow that failed to load; DagBag turns its ``validate()`` error into an import error."""

    def __init__(self, *, error: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.load_error = error

    def validate(self) -> None:
        # DagBag records ``f"{type(e).__name__}: {e}"``: the diagnostics appear verbatim.
        raise ValueError(self.load_error)


def workflow_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.glob("*.json") if not path.name.endswith(SIDECAR_SUFFIX))


def compile_file(path: Path, sidecar_text: bytes | None = None) -> DAG:
    """The DAG of one TCSL file (and its sidecar bytes, if any); :class:`DefinitionError` if either is invalid."""
    from asw_airflow.airflow.compiler import build_dag
    from asw_airflow.ir import build_machine
    from asw_airflow.loader import load_text

    text = path.read_bytes()
    settings = Sidecar()
    if sidecar_text is not None:
        settings = parse_sidecar(sidecar_text, str(path.with_name(path.stem + SIDECAR_SUFFIX)))
    machine = build_machine(load_text(text, str(path)), workflow_type=settings.workflow_type, name=path.stem)  # type: ignore[arg-type]
    return build_dag(machine, dag_id=dag_id_for(path.stem), workflow_name=path.stem, settings=settings)


def load_workflow(path: Path) -> DAG:
    """One workflow's DAG, from the cache when the TCSL file and its sidecar are unchanged."""
    sidecar = path.with_name(path.stem + SIDECAR_SUFFIX)
    sidecar_text = sidecar.read_bytes() if sidecar.exists() else None
    digest = hashlib.sha256(path.read_bytes() + b"\0" + (sidecar_text or b"")).hexdigest()
    cached = _cache.get(path)
    if cached is not None and cached[0] == digest:
        return cached[1]
    dag = compile_file(path, sidecar_text)
    _cache[path] = (digest, dag)
    return dag


def load_workflows(folder: str | Path, namespace: MutableMapping[str, Any] | None = None) -> dict[str, DAG]:
    """Every workflow in ``folder`` as a DAG (broken ones as :class:`BrokenWorkflow`), also put in ``namespace``."""
    dags: dict[str, DAG] = {}
    broken: dict[str, str] = {}
    for path in workflow_files(Path(folder)):
        dag_id = dag_id_for(path.stem)
        try:
            dags[dag_id] = load_workflow(path)
        except DefinitionError as exc:
            broken[dag_id] = str(exc)
        except OSError as exc:
            broken[dag_id] = f"{path}: cannot read: {exc}"
        except Exception as exc:  # noqa: BLE001 - one workflow must never take the folder down
            broken[dag_id] = f"{path}: cannot compile: {type(exc).__name__}: {exc}"
    report = "\n".join([f"{len(broken)} workflow(s) in {folder} did not load:", *broken.values()])
    for dag_id in broken:
        dags[dag_id] = BrokenWorkflow(dag_id=dag_id, schedule=None, error=report)
    if namespace is not None:
        namespace.update(dags)
    return dags
