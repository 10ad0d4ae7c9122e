"""An API server's helper process ends with the server: when the server closes it, and
when the server is killed without closing anything (a pool's worker would else wait for
work forever, holding its copy of the index)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SERVER = """
import sys
from geogrid.settings import Settings
from geogrid.workspace import Workspace
from geogrid.workspace._helper_process import HelperProcess

helper = HelperProcess(Workspace, "postgresql+psycopg://nowhere/none", Settings())
print(sorted(helper.holds()), flush=True)  # starts the helper; it holds nothing yet
print(*helper._pool._processes, flush=True)
if sys.argv[1] == "close":
    helper.close()
    print("closed", flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has ended too
        return stat.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.parametrize("how", ["close", "kill"])
def test_the_helper_ends_with_the_process_it_helps(how: str) -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", "import time\n" + SERVER, how],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "[]"
        helper = int(server.stdout.readline())
        assert alive(helper)
        if how == "close":
            assert server.stdout.readline().strip() == "closed"
        else:
            server.send_signal(signal.SIGKILL)
            server.wait(10)
        deadline = time.monotonic() + 20
        while alive(helper):
            assert time.monotonic() < deadline, f"the helper outlived its server ({how})"
            time.sleep(0.1)
        if how == "close":
            assert server.poll() is None  # the server itself goes on
    finally:
        server.kill()
        server.wait(10)
