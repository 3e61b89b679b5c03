"""The commands of what a task needs on this machine: ``data status|fetch`` (its upstream files) and
``sandbox build`` (its Docker images). Every named task is checked before anything is downloaded or built.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tabulate import tabulate

from .. import data
from .. import tasks as task_table
from .common import UsageError


def add_data(sub: Any) -> None:
    p = sub.add_parser("data", help="upstream data: where it is and fetching it")
    data_sub = p.add_subparsers(title="data commands", metavar="ACTION")
    q = data_sub.add_parser("status", help="which declared upstream files are present")
    q.set_defaults(handler=_cmd_data_status)
    q = data_sub.add_parser("fetch", help=f"download and verify a task's files into ${data.ENV_VAR}")
    q.add_argument("tasks", nargs="+")
    q.add_argument("--force", action="store_true", help="download again even if present")
    q.set_defaults(handler=_cmd_data_fetch)


def add_sandbox(sub: Any) -> None:
    p = sub.add_parser("sandbox", help="the Docker sandbox's images")
    q = p.add_subparsers(title="sandbox commands", metavar="ACTION").add_parser(
        "build", help="build the service image, and the named tasks' own images, where absent or out of date"
    )
    q.add_argument("tasks", nargs="*", help="tasks with an image of their own (e.g. webshop)")
    q.set_defaults(handler=_cmd_sandbox_build)


def _cmd_data_status(args: argparse.Namespace) -> int:
    print(f"{data.ENV_VAR} = {data.data_root()}")
    print(tabulate(data.status(task_table.catalogue().values()), headers="keys", tablefmt="github"))
    return 0


def _cmd_data_fetch(args: argparse.Namespace) -> int:
    chosen = [task_table.data_set(key) for key in args.tasks]  # every name checked before any download
    for files in chosen:
        written = data.fetch(files, force=args.force)
        print(f"{files.task}: {len(written)} file(s) fetched into {data.folder(files)}")
    return 0


def _cmd_sandbox_build(args: argparse.Namespace) -> int:
    from ..sandbox import docker_backend, images

    wanted = []
    for spec in (task_table.get(name) for name in args.tasks):  # every name checked before any build
        if spec.image is None:
            raise UsageError(f"{spec.name} has no image of its own (its service runs in the generic one)")
        wanted.append(images.TaskImage(spec.image, (spec.extra,) if spec.extra else ()))
    images.build(docker_backend.docker_client(), wanted, log=sys.stdout)
    return 0
