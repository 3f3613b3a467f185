"""The benchmark scripts keep working as the code changes (a few runs, figures thrown away)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_bench(script: str, tmp_path, *args: str) -> dict:
    """Run bench/<script> at a small size; its report (the figures it would keep)."""
    output = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args, "--output", str(output)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(output.read_text())


def test_bench_forms_runs(tmp_path):
    figures = run_bench("forms.py", tmp_path, "--runs", "3", "--warmup", "1")["results"]
    assert figures["submit_dossier"]["runs"] == 3
    assert figures["validate_answers"]["median_ms"] > 0


def test_bench_backoffice_runs(tmp_path):
    report = run_bench(
        "backoffice.py",
        tmp_path,
        *("--dossiers", "3000", "--citizens", "500", "--runs", "2", "--warmup", "0"),
        *("--deep-page", "2"),
    )
    assert report["parameters"]["dossiers"] == 3000
    for name, figures in report["results"].items():
        assert figures["runs"] == 2 and figures["median_ms"] > 0, name
        assert report["parameters"]["rows_shown"][name] > 0, name
    assert all(report["explain"][name]["list"] for name in report["results"])  # EXPLAIN kept


def test_bench_mail_runs(tmp_path):
    """A few messages through Dovecot."""
    figures = run_bench("mail.py", tmp_path, "--messages", "25", "--dossiers", "3")["results"]
    assert figures["messages"] == 25 and figures["messages_per_second"] > 0
    assert sum(figures["outcomes"].values()) == 25
