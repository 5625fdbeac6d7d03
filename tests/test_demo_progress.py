"""`make demo` prints each task of the DAG run as it ends, read from `airflow dags test`'s log as it grows."""

from __future__ import annotations

import threading
import time

from stack import follow_dag_test

LINES = [
    "2026-12-07T00:21:30.753850Z [info     ] [DAG TEST] starting task_id=prepare map_index=-1 [airflow.sdk.definitions.dag] loc=dag.py:1501",
    "2026-12-07T00:21:30.754702Z [info     ] [DAG TEST] running task <TaskInstance: ads_daily.prepare manual__x [TaskInstanceState.SCHEDULED] ti_id=01a2-aa> [airflow.sdk.definitions.dag]",
    "2026-12-07T00:21:36.900000Z [info     ] Task instance state updated    [airflow.api] new_state=success rows_affected=1 ti_id=01a2-aa",
    "2026-12-07T00:21:36.932064Z [info     ] [DAG TEST] end task task_id=prepare map_index=-1 [airflow.sdk.definitions.dag] loc=dag.py:1563",
    "2026-12-07T00:21:47.000000Z [info     ] [DAG TEST] starting task_id=meta.account.load map_index=1 [airflow.sdk.definitions.dag]",
    "2026-12-07T00:21:47.100000Z [info     ] [DAG TEST] running task <TaskInstance: ads_daily.meta.account.load manual__x [TaskInstanceState.SCHEDULED] ti_id=01a2-bb> [x]",
    "2026-12-07T00:21:47.666282Z [info     ] Done. Returned value was: {'platform': 'meta', 'workspace_id': 'lumen_eu', 'account_id': '2000000002', 'rows_loaded': 464, 'rows_replaced': 464} [x]",
    "2026-12-07T00:21:47.700000Z [info     ] Task instance state updated    [airflow.api] new_state=failed rows_affected=1 ti_id=01a2-bb",
    "2026-12-07T00:21:48.000000Z [info     ] [DAG TEST] end task task_id=meta.account.load map_index=1 [airflow.sdk.definitions.dag]",
]


class Proc:
    def __init__(self):
        self.done = False

    def poll(self):
        return 0 if self.done else None


def test_each_task_is_printed_as_its_end_reaches_the_log(tmp_path, capsys):
    log, proc = tmp_path / "dags-test.log", Proc()
    log.write_text(LINES[0] + "\n")
    follower = threading.Thread(target=follow_dag_test, args=(log, proc))
    follower.start()
    with open(log, "a") as f:
        for line in LINES[1:]:
            f.write(line + "\n")
            f.flush()
            time.sleep(0.05)
    time.sleep(1)
    proc.done = True
    follower.join(timeout=10)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2, out
    assert out[0].split() == ["0:06", "prepare", "success", "6.2", "s"]
    assert out[1].split()[:5] == ["0:17", "meta.account.load[1]", "failed", "1.0", "s"]
    assert out[1].endswith("lumen_eu / 2000000002: 464 rows loaded")


def test_the_stack_script_finds_the_sandbox_as_make_demo_runs_it(tmp_path):
    """`make demo` runs scripts/stack.py as a script, from the repo but with only scripts/ on the path: the
    platforms' credentials and Connections come from the sandbox package, which it must import by itself."""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    probe = (
        "import runpy, sys; sys.path[0] = sys.argv[1]; "
        "g = runpy.run_path(sys.argv[2], run_name='stack_script'); "
        "print(sorted(g['new_credentials']()))"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", probe, str(repo / "scripts"), str(repo / "scripts" / "stack.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "'tiktok'" in done.stdout and "'reporting_api'" in done.stdout
