"""A script's failure: the traceback in the rule's log once, one line on stderr."""

import subprocess
import sys

SCRIPT = """
import sys
from xairepro.common.errors import InputError
from xairepro.common.logs import setup_logging
setup_logging(sys.argv[1])
raise InputError("data/x.npz", "is damaged", "re-run the rule that makes it")
"""


def test_uncaught_error_logs_its_traceback_once(tmp_path):
    log = tmp_path / "logs" / "step.log"
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(log)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "data/x.npz: is damaged (re-run the rule that makes it)" in lines[0]
    assert lines[0].endswith(f"(traceback in {log})")
    text = log.read_text()
    assert text.count("Traceback (most recent call last)") == 1 and "InputError: data/x.npz: is damaged" in text


def test_without_a_log_the_traceback_goes_to_stderr(tmp_path):
    script = SCRIPT.replace("setup_logging(sys.argv[1])", "setup_logging(None)")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.stderr.count("Traceback (most recent call last)") == 1
