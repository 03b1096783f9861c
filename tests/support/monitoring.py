"""The monitoring files of the repository (monitoring/) as the tests read them."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.support.paths import ROOT

MONITORING = ROOT / "monitoring"
DASHBOARD = MONITORING / "grafana" / "video2audio.json"
PROMETHEUS_URL = "http://127.0.0.1:9090"  # scripts/stack.sh's default V2A_PROMETHEUS_PORT


@dataclass(frozen=True)
class PanelQuery:
    panel_id: int
    title: str
    ref_id: str
    expr: str


def load_dashboard(path: Path = DASHBOARD) -> dict[str, Any]:
    return json.loads(path.read_text())


def panel_queries(dashboard: dict[str, Any]) -> list[PanelQuery]:
    """Every target of every panel (rows' nested panels included)."""
    queries = []
    for panel in dashboard_panels(dashboard):
        for target in panel.get("targets", []):
            queries.append(PanelQuery(panel["id"], panel["title"], target["refId"], target["expr"]))
    return queries


def dashboard_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    panels = []
    for panel in dashboard["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))
    return panels


def promql_parse_errors(exprs: list[str], tmp_dir: Path) -> str:
    """promtool's complaints about the expressions ("" when all parse).

    promtool 2.42 has no command that only parses a query, but `check rules` parses every rule's
    expression without a server: each expression becomes a recording rule of a scratch file (JSON
    is YAML, so no YAML library is needed).
    """
    rules = [{"record": f"dashboard:query_{i}", "expr": expr} for i, expr in enumerate(exprs)]
    path = tmp_dir / "dashboard-queries.rules.yml"
    path.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": rules}]}))
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: run `make install` (Debian's prometheus package)"
    completed = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    return "" if completed.returncode == 0 else completed.stdout + completed.stderr


def query(expr: str, url: str = PROMETHEUS_URL) -> list[dict[str, Any]]:
    """An instant query's result vector; a query Prometheus refuses fails the test."""
    response = requests.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10)
    assert response.status_code == 200, f"{expr}: {response.status_code} {response.text}"
    return response.json()["data"]["result"]
