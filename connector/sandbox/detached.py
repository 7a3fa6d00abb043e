"""A sandbox that runs in the background: its state directory holds a pid file, an env file and a log.

`nurture sandbox start --detach` starts the foreground command as a child in its own session, with its
output in the log, waits until the child has written the env file (the emulators are up), and returns;
so `eval "$(nurture sandbox start --detach)"` returns too. `env` prints the file again; `stop` ends the
process named in the pid file, after checking that it still is a sandbox (pids are reused).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

DEFAULT_STATE_DIR = ".nurture-sandbox"
PID_FILE = "sandbox.pid"
ENV_FILE = "sandbox.env"
LOG_FILE = "sandbox.log"


class DetachError(Exception):
    """The background sandbox could not be started, found or stopped; the message says why."""


def exports(env: Mapping[str, str]) -> str:
    """Lines a POSIX shell can eval: exported, so the commands it then runs see them."""
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())


def write_state(state_dir: Path, env: Mapping[str, str]) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    env_file = state_dir / ENV_FILE
    # The file holds tokens and passwords: readable by its owner only. Written whole, then renamed,
    # so a reader never sees half of it.
    tmp = env_file.with_suffix(".tmp")
    tmp.write_text(exports(env), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(env_file)
    (state_dir / PID_FILE).write_text(f"{os.getpid()}\n", encoding="utf-8")


def clear_state(state_dir: Path) -> None:
    for name in (PID_FILE, ENV_FILE):
        (state_dir / name).unlink(missing_ok=True)


def running_pid(state_dir: Path) -> int | None:
    """The pid of this state directory's sandbox if it is still running, else None."""
    try:
        pid = int((state_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        if not _alive(pid):
            return None
    except PermissionError:
        return None  # some other user's process took the pid
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and b"sandbox" not in cmdline.read_bytes():
        return None  # the pid was reused by something that is not ours
    return pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by an init that never reaps) counts as stopped
        return Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def read_env(state_dir: Path) -> str:
    if running_pid(state_dir) is None:
        raise DetachError(f"no sandbox is running with state in {state_dir} — start one with "
                          f"`nurture sandbox start --detach --state-dir {state_dir}`")
    return (state_dir / ENV_FILE).read_text(encoding="utf-8")


def start_detached(args: list[str], state_dir: Path, timeout_s: float = 60) -> str:
    """Run `nurture sandbox <args> --state-dir DIR` in the background; return its export lines once it is up."""
    if (pid := running_pid(state_dir)) is not None:
        raise DetachError(f"a sandbox (pid {pid}) already runs with state in {state_dir} — "
                          f"`nurture sandbox env --state-dir {state_dir}` prints its settings, "
                          f"`nurture sandbox stop --state-dir {state_dir}` stops it")
    state_dir.mkdir(parents=True, exist_ok=True)
    clear_state(state_dir)
    log = (state_dir / LOG_FILE).open("ab")
    command = [sys.executable, "-m", "connector", "sandbox", *args, "--state-dir", str(state_dir)]
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                             env={**os.environ, "PYTHONUNBUFFERED": "1"})
    log.close()
    deadline = time.monotonic() + timeout_s
    env_file = state_dir / ENV_FILE
    while time.monotonic() < deadline:
        if env_file.exists():
            return env_file.read_text(encoding="utf-8")
        if child.poll() is not None:
            tail = (state_dir / LOG_FILE).read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
            raise DetachError(f"the sandbox stopped at start (exit {child.returncode}): {' / '.join(tail)}")
        time.sleep(0.05)
    child.terminate()
    raise DetachError(f"the sandbox did not come up within {timeout_s:g} s; see {state_dir / LOG_FILE}")


def stop_detached(state_dir: Path, timeout_s: float = 15) -> int:
    """Stop the sandbox of this state directory; return its pid."""
    pid = running_pid(state_dir)
    if pid is None:
        clear_state(state_dir)
        raise DetachError(f"no sandbox is running with state in {state_dir}")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.05)
    else:
        raise DetachError(f"sandbox pid {pid} did not stop within {timeout_s:g} s")
    clear_state(state_dir)
    return pid
