"""The benchmark scripts keep working as the code changes (a few runs, figures thrown away)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_forms_runs(tmp_path):
    output = tmp_path / "forms.json"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "forms.py"),
            "--runs",
            "3",
            "--warmup",
            "1",
            "--output",
            str(output),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(output.read_text())["results"]
    assert figures["submit_dossier"]["runs"] == 3
    assert figures["validate_answers"]["median_ms"] > 0


def test_bench_backoffice_runs(tmp_path):
    output = tmp_path / "backoffice.json"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "backoffice.py"),
            "--dossiers",
            "3000",
            "--citizens",
            "500",
            "--runs",
            "2",
            "--warmup",
            "0",
            "--deep-page",
            "2",
            "--output",
            str(output),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(output.read_text())
    assert report["parameters"]["dossiers"] == 3000
    for name, figures in report["results"].items():
        assert figures["runs"] == 2 and figures["median_ms"] > 0, name
        assert report["parameters"]["rows_shown"][name] > 0, name
    assert all(report["explain"][name]["list"] for name in report["results"])  # EXPLAIN kept
