"""A content-addressed cache on disk for an engine's pure, expensive results (plans, translations, gold paths).

Why one module: ALFWorld's planner and ScienceWorld's gold-path generator are each most of an expert
episode's cost, and each is a pure function of what its key holds, so a rerun, another worker or
another run on the same machine should pay for a result once. The rules are the same for both:

* a key is a sha256 over the entry's kind, the versions of every package that computes it
  (:meth:`DiskCache.versions`: an upgrade never reads an old entry) and the inputs;
* entries live in the user cache (``platformdirs``) under the task's folder, or where the task's
  environment variable says (``off`` switches the cache off), one zlib-compressed JSON file per key;
* a write goes to a temporary file renamed into place, so a reader sees a whole entry or none; an entry
  that cannot be read back (cut short, damaged -- zlib's checksum catches flipped bits --, of another
  key or another shape) is treated as missing, and recomputing it rewrites it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import tempfile
import zlib
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import platformdirs


class DiskCache:
    """One task's cache: ``variable`` moves it (or switches it ``off``), ``folder`` names it in the user cache,
    ``distributions`` are the packages whose versions every key includes, ``schema`` the entries' format."""

    def __init__(self, variable: str, folder: str, distributions: tuple[str, ...], schema: int = 1):
        self.variable, self.folder, self.distributions, self.schema = variable, folder, distributions, schema

    def root(self) -> Path | None:
        """Where the entries live; None when the cache is switched off."""
        configured = os.environ.get(self.variable)
        if configured == "off":
            return None
        if configured:
            return Path(configured).expanduser()
        return Path(platformdirs.user_cache_dir("agentrm-bench")) / self.folder

    @cached_property
    def versions(self) -> str:
        """The versions of everything that computes an entry."""
        found = []
        for name in self.distributions:
            try:
                found.append(f"{name}=={importlib.metadata.version(name)}")
            except importlib.metadata.PackageNotFoundError:
                found.append(f"{name} absent")
        return f"schema {self.schema}; " + ", ".join(found)

    def key(self, kind: str, *parts: str) -> str:
        digest = hashlib.sha256()
        for part in (kind, self.versions, *parts):
            digest.update(part.encode())
            digest.update(b"\0")
        return digest.hexdigest()

    def read(self, kind: str, key: str, valid: Callable[[Any], bool]) -> Any | None:
        """The value stored under ``key``, or None when there is none or it cannot be trusted."""
        file = self._file(kind, key)
        if file is None:
            return None
        try:
            entry = json.loads(zlib.decompress(file.read_bytes()))
        except (OSError, ValueError, zlib.error):
            return None
        if not isinstance(entry, dict) or entry.get("key") != key or not valid(entry.get("value")):
            return None
        return entry["value"]

    def write(self, kind: str, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` atomically (an unwritable cache only costs time)."""
        file = self._file(kind, key)
        if file is None:
            return
        blob = zlib.compress(json.dumps({"key": key, "value": value}).encode(), 1)
        temporary = None
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=file.parent, prefix=file.name, suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                out.write(blob)
            os.replace(temporary, file)
        except OSError:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)

    def _file(self, kind: str, key: str) -> Path | None:
        root = self.root()
        return None if root is None else root / kind / f"{key}.json.z"
