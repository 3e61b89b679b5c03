"""Saved simulator states inside ScienceWorld's JVM: branching without replaying the action prefix.

scienceworld 1.1.3 has no save, load or clone, and a JVM cannot be forked, so without help every
branch of a search replays its prefix (~70 ms a step). The simulator's whole state is the object graph
of its ``PythonInterface`` (world, agent, task, goal sequence, random generator, run history) plus the
active simplifications; ``java/AgentrmStates.java`` deep-copies that graph inside the JVM (the task
definitions, which no step changes, are kept, not copied): a save or restore of a ScienceWorld state
is ~6,000 objects and a few milliseconds. Tests compare every restored state with a replay.

The class is compiled once per machine with the JDK's ``javac`` (ScienceWorld needs Java 17 anyway)
into the user cache, keyed by its source and the Java version, and put on the simulator JVM's class
path. Without ``javac`` (a JRE only), or with ``AGENTRM_BENCH_SCIWORLD_STATES=off``, snapshots replay
as before; :func:`unavailable_reason` says why.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import platformdirs

SOURCE = Path(__file__).parent / "java" / "AgentrmStates.java"
CLASS_NAME = "agentrm.AgentrmStates"
VARIABLE = "AGENTRM_BENCH_SCIWORLD_STATES"
KEPT = 512  # saved states per JVM (a few hundred kB each); the least recently used beyond are replayed
_COMPILE_LOCK = threading.Lock()


@dataclass(frozen=True)
class SavedState:
    """A state saved in one JVM: usable only there (a restarted or another JVM replays instead)."""

    pid: int
    start: int  # which start of the simulator (a restart reuses nothing)
    number: int


def enabled() -> bool:
    return os.environ.get(VARIABLE, "").lower() not in {"off", "0", "false"}


@cache
def _compiled() -> tuple[Path | None, str]:
    """The folder holding the compiled class (None if it cannot be had), and why not."""
    javac = shutil.which("javac")
    if javac is None:
        return None, "no javac on PATH (a JRE only): ScienceWorld branches replay their actions"
    source = SOURCE.read_bytes()
    version = subprocess.run([javac, "-version"], capture_output=True, text=True, check=False)
    digest = hashlib.sha256(source + (version.stdout + version.stderr).encode()).hexdigest()[:16]
    folder = Path(platformdirs.user_cache_dir("agentrm-bench")) / "sciworld-java" / digest
    if (folder / "agentrm" / "AgentrmStates.class").exists():
        return folder, ""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent) as scratch:
        built = subprocess.run(
            [javac, "-nowarn", "-XDignore.symbol.file", "-d", scratch, str(SOURCE)],
            capture_output=True,
            text=True,
            check=False,
        )
        if built.returncode != 0:
            return None, f"javac failed on {SOURCE.name}: {built.stderr.strip()[-400:]}"
        try:
            os.replace(scratch, folder)  # whole or not at all; another process may have won the race
        except OSError:
            if not (folder / "agentrm" / "AgentrmStates.class").exists():
                raise
        Path(scratch).mkdir(exist_ok=True)  # TemporaryDirectory cleans up the name it made
    return folder, ""


def class_path() -> Path | None:
    """The folder to add to the simulator JVM's class path, or None when states are unavailable."""
    if not enabled():
        return None
    with _COMPILE_LOCK:
        return _compiled()[0]


def unavailable_reason() -> str:
    if not enabled():
        return f"{VARIABLE}=off"
    with _COMPILE_LOCK:
        return _compiled()[1]


def attach(gateway: Any, server: Any) -> Any:
    """The JVM-side keeper of saved states for one ``PythonInterface``."""
    return gateway.jvm.agentrm.AgentrmStates(server, KEPT)
