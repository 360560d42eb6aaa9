"""Settings as the command reports them: a bad value is one line naming its variable (the
settings themselves: tests/unit/test_config.py)."""

import os
import subprocess
import sys
from pathlib import Path

from service.config import Settings

# Every variable a setting reads: none of the developer's own may decide the test.
VARIABLES = {str(field.validation_alias) for field in Settings.model_fields.values()}


def test_the_command_reports_a_bad_value_in_one_line():
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env["THREADLOG_DB_POOL_MIN"] = "abc"
    done = subprocess.run(
        [sys.executable, "-m", "service", "migrate"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stderr.strip().splitlines() == [
        "threadlog: THREADLOG_DB_POOL_MIN: expected an integer, got 'abc'"
    ]
