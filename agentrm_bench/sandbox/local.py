"""The ``local`` backend: the server as a subprocess of the harness, its socket in a private directory.

The directory is created with mode 0700 under a 0700 per-user root, so only this user can reach the
socket. The server runs in its own session (a Ctrl-C meant for the harness does not kill it mid-call;
the harness closes it), holds the read end of a pipe whose write end only the harness has, and watches
its parent pid: when the harness dies, however it dies, the server exits within half a second.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from . import cleanup
from .backend import Launch
from .protocol import SOCKET_NAME

LOG_NAME = "server.log"


def package_parent() -> Path:
    """The directory that holds the ``agentrm_bench`` package (a source tree or site-packages)."""
    return Path(__file__).resolve().parents[2]


class LocalBackend:
    """Starts and stops one server process; :class:`~agentrm_bench.sandbox.Sandbox` drives it."""

    name = "local"

    def __init__(self, launch: Launch):
        if launch.image is not None or launch.limits or launch.mounts:
            raise ValueError("image, mounts and limits apply to the docker backend only")
        self.spec, self.kwargs = launch.spec, launch.kwargs
        self.pythonpath, self.env = launch.pythonpath, dict(launch.env)
        self.dir = cleanup.private_dir()
        self.socket_path = str(self.dir / SOCKET_NAME)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def launch(self) -> None:
        self.stop()
        Path(self.socket_path).unlink(missing_ok=True)
        env = dict(os.environ)
        env.update(self.env)
        paths = [*self.pythonpath, str(package_parent())]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        command = [
            sys.executable,
            "-m",
            "agentrm_bench.sandbox.server",
            "--service",
            self.spec,
            "--kwargs",
            json.dumps(self.kwargs),
            "--socket",
            self.socket_path,
            "--watch-stdin",
            "--parent-pid",
            str(os.getpid()),
        ]
        with open(self.dir / LOG_NAME, "ab") as log:
            self._proc = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=log, stderr=log, env=env, start_new_session=True
            )
        cleanup.write_owner(self.dir, self._proc.pid)

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def describe_exit(self) -> str:
        """Why the server is not running: exit status and the end of its log."""
        if self._proc is None:
            return "the server was never started"
        code = self._proc.poll()
        if code is None:
            state = f"the server (pid {self._proc.pid}) is still running"
        elif code < 0:
            state = f"the server (pid {self._proc.pid}) was killed by {signal.Signals(-code).name}"
        else:
            state = f"the server (pid {self._proc.pid}) exited with status {code}"
        return state + _tail(self.dir / LOG_NAME)

    def kill(self) -> None:
        """SIGKILL the server (tests use it to play a crash)."""
        if self.alive():
            assert self._proc is not None
            self._proc.kill()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 2 s); the exited process is kept for describe_exit."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if proc.stdin is not None and not proc.stdin.closed:
            try:
                proc.stdin.close()
            except OSError:
                pass

    def wait_exit(self, seconds: float) -> bool:
        """Give a dying server a moment to finish dying (so its exit status can be reported)."""
        if self._proc is None:
            return True
        try:
            self._proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

    def destroy(self) -> None:
        self.stop()
        cleanup.remove_dir(self.dir)


def _tail(log: Path, chars: int = 1500) -> str:
    try:
        text = log.read_text(errors="replace").strip()
    except OSError:
        return ""
    if not text:
        return ""
    return "; its log ends:\n" + (text if len(text) <= chars else "..." + text[-chars:])
