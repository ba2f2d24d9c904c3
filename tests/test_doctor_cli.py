from __future__ import annotations

import subprocess
import sys

from scalecode import doctor


def test_doctor_reports_every_need_with_marks(capsys):
    findings = doctor.run_checks()
    topics = [f.topic for f in findings]
    for topic in ("Python", "packages", "Jupyter kernel", "Redis (in-process)", "Redis (across processes)",
                  "SQL database", "data set", "load generator", "TIME_SCALE"):  # fmt: skip
        assert topic in topics
    assert all(f.status in {"✓", "⚠", "✗"} for f in findings)
    assert doctor.report(findings) == 0, capsys.readouterr().out


def test_a_broken_finding_prints_its_fix_and_fails():
    finding = doctor.Finding(doctor.FAIL, "data set", "missing news", "python data/make_data.py")
    assert "fix: python data/make_data.py" in finding.line()
    assert doctor.report([finding]) == 1


def test_cli_doctor_and_labs_check():
    out = subprocess.run([sys.executable, "-m", "scalecode", "doctor"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "✓ Python" in out.stdout and "problem(s)" in out.stdout
    out = subprocess.run([sys.executable, "-m", "scalecode", "labs", "--check"], capture_output=True, text=True)
    assert out.returncode == 0 and "labs/ matches" in out.stdout
