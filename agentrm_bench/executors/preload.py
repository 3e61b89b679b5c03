"""The run's modules imported once, before any episode: in the forkserver that forks pool workers
(:mod:`.processes`), and in each Ray worker as it starts (Ray's ``worker_process_setup_hook``).

The driver names the modules in ``AGENTRM_BENCH_PRELOAD``: while it starts the forkserver, or in a Ray
job's environment. Importing this module with the variable set imports each of them and removes the
variable, so the workers forked afterwards do not see it. A module that fails to import is skipped
(multiprocessing's own preloading stops the forkserver at any error other than an ImportError): a worker
then imports it itself and meets the error where an episode records it. The task table is read once here
too (it scans the installed packages' entry points).
"""

from __future__ import annotations

import importlib
import os

VARIABLE = "AGENTRM_BENCH_PRELOAD"


def preload(names: list[str]) -> list[str]:
    """Import ``names``; return those that failed (for tests; the forkserver has no one to tell)."""
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - any failure only means the worker imports it itself
            failed.append(name)
    try:
        from .. import tasks

        tasks.specs()
    except Exception:  # noqa: BLE001 - the same: the worker reads the table itself
        pass
    return failed


def from_environment() -> None:
    """Import the modules the variable names, once per process (Ray calls this as its setup hook; in the
    forkserver, importing this module calls it)."""
    names = os.environ.pop(VARIABLE, "")
    preload([name for name in names.split(",") if name])


if VARIABLE in os.environ:
    from_environment()
