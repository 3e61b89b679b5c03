"""One registry mechanism for every kind of plug-in: tasks, policies, search strategies, LLM backends,
reward models and sandbox backends.

A registry maps a name to a target. A target is an object or a lazy ``"module:attribute"`` string,
imported on first use, so that naming a plug-in never imports its optional dependencies. Names come
from three places, in this order of precedence:

1. :meth:`Registry.register` calls (tests, notebooks, a plug-in's own import-time registration);
2. the package's built-ins;
3. Python entry points of the registry's group (e.g. ``agentrm_bench.reward_models``), so a plug-in can
   ship as its own pip package: ``[project.entry-points."agentrm_bench.reward_models"] my-rm = "my_rm:MyRM"``.

Anything that is not a name may be given as ``module:attribute`` directly (:meth:`Registry.load`).
Where a plug-in came from (:meth:`Registry.origin`: the distribution and its version) is recorded in
run manifests and leaderboard submissions, so that a row names the package that produced it.
"""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_MODULE_ATTRIBUTE = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


class UnknownPluginError(ValueError):
    """A name no registry knows, or a target that cannot be loaded (the message says which and why)."""


@dataclass(frozen=True)
class Origin:
    """Where a plug-in comes from: ``builtin``, ``registered``, ``entry-point`` or ``module``."""

    source: str
    target: str  # "module:attribute" (or the object's repr when registered as an object)
    package: str | None = None  # the distribution that ships it, when known
    version: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target, "package": self.package, "version": self.version}


class Registry(Generic[T]):
    """Name -> lazily loaded target, for one kind of plug-in."""

    def __init__(self, kind: str, group: str, builtins: Mapping[str, str | T] | None = None):
        self.kind = kind
        self.group = group
        self._builtins: dict[str, str | T] = dict(builtins or {})
        self._registered: dict[str, str | T] = {}
        self._entry_points: dict[str, metadata.EntryPoint] | None = None
        self._entry_points_path: tuple[str, ...] = ()
        self._loaded: dict[str, T] = {}

    # ------------------------------------------------------------------ naming
    def register(self, name: str, target: str | T) -> None:
        """Add (or replace) ``name``; ``target`` is an object or a lazy ``"module:attribute"`` string."""
        if not name or not isinstance(name, str):
            raise ValueError(f"a {self.kind} needs a non-empty name, got {name!r}")
        self._registered[name] = target
        self._loaded.pop(name, None)

    def unregister(self, name: str) -> None:
        self._registered.pop(name, None)
        self._loaded.pop(name, None)

    def names(self) -> list[str]:
        """Every known name: registered, built-in and from installed entry points."""
        return sorted({*self._registered, *self._builtins, *self._entry_point_map()})

    def builtin_names(self) -> list[str]:
        return list(self._builtins)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (
            name in self._registered or name in self._builtins or name in self._entry_point_map()
        )

    # ------------------------------------------------------------------ loading
    def load(self, name: str) -> T:
        """The target of ``name``, or of ``name`` read as ``module:attribute`` when it is no known name."""
        if name in self._loaded:
            return self._loaded[name]
        target: Any
        if name in self._registered:
            target = self._registered[name]
        elif name in self._builtins:
            target = self._builtins[name]
        elif name in self._entry_point_map():
            point = self._entry_point_map()[name]
            try:
                target = point.load()
            except Exception as exc:  # noqa: BLE001 - a broken plug-in is named, not a traceback
                raise UnknownPluginError(
                    f"{self.kind} {name!r} (entry point {point.value} of group {self.group}) cannot be loaded: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        elif is_module_attribute(name):
            target = name
        else:
            raise UnknownPluginError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())} (or module:attr)")
        if isinstance(target, str):
            target = import_target(target, f"{self.kind} {name!r}")
        self._loaded[name] = target
        return target

    def origin(self, name: str) -> Origin:
        """Where ``name`` comes from (for manifests and submissions); loads nothing."""
        if name in self._registered:
            target = self._registered[name]
            text = target if isinstance(target, str) else _describe(target)
            return Origin("registered", text, *distribution_of(text))
        if name in self._builtins:
            target = self._builtins[name]
            text = target if isinstance(target, str) else _describe(target)
            return Origin("builtin", text, *distribution_of("agentrm_bench:x"))
        point = self._entry_point_map().get(name)
        if point is not None:
            dist = getattr(point, "dist", None)
            package = dist.metadata["Name"] if dist is not None else None
            version = dist.version if dist is not None else None
            return Origin("entry-point", point.value, package, version)
        if is_module_attribute(name):
            return Origin("module", name, *distribution_of(name))
        raise UnknownPluginError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())} (or module:attr)")

    # ------------------------------------------------------------------ entry points
    def _entry_point_map(self) -> dict[str, metadata.EntryPoint]:
        """Entry points of this group, rescanned when ``sys.path`` changed (a package installed meanwhile)."""
        path = tuple(sys.path)
        if self._entry_points is None or path != self._entry_points_path:
            found: dict[str, metadata.EntryPoint] = {}
            for point in metadata.entry_points(group=self.group):
                found.setdefault(point.name, point)
            self._entry_points, self._entry_points_path = found, path
        return self._entry_points

    def refresh(self) -> None:
        """Forget what was scanned and loaded (after installing a plug-in in a running process)."""
        self._entry_points = None
        self._loaded.clear()
        importlib.invalidate_caches()


def is_module_attribute(text: str) -> bool:
    """Whether ``text`` has the ``package.module:attribute`` form."""
    return bool(_MODULE_ATTRIBUTE.fullmatch(text))


def import_target(target: str, what: str = "target") -> Any:
    """Import ``"module:attribute"`` (the attribute may be dotted); errors say what was being loaded."""
    module_name, _, attribute = target.partition(":")
    try:
        value: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            value = getattr(value, part)
    except (ImportError, AttributeError) as exc:
        raise UnknownPluginError(f"{what}: cannot load {target} ({type(exc).__name__}: {exc})") from exc
    return value


def distribution_of(target: str) -> tuple[str | None, str | None]:
    """(distribution name, version) that ships the top-level module of ``"module:attribute"``, if installed."""
    top = target.partition(":")[0].split(".")[0]
    try:
        names = metadata.packages_distributions().get(top) or []
    except Exception:  # noqa: BLE001 - odd installations: unknown, not fatal
        names = []
    for name in names:
        try:
            return name, metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None, None


def _describe(target: Callable[..., Any] | Any) -> str:
    module = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", None)
    return f"{module}:{qualname}" if module and qualname else repr(target)
