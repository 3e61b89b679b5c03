"""One registry mechanism for every kind of plug-in: tasks, policies, search strategies, LLM backends,
reward models and sandbox backends.

A registry maps a name to a target. A target is an object or a lazy ``"module:attribute"`` string,
imported on first use, so that naming a plug-in never imports its optional dependencies. Names come
from three places, in this order of precedence:

1. :meth:`Registry.register` calls (tests, notebooks, a plug-in's own import-time registration);
2. the package's built-ins;
3. Python entry points of the registry's group (e.g. ``agentrm_bench.reward_models``), so a plug-in can
   ship as its own pip package: ``[project.entry-points."agentrm_bench.reward_models"] my-rm = "my_rm:MyRM"``.

Anything that is not a name may be given as ``package.module:attribute`` directly (:meth:`Registry.load`).
Where a command line takes an argument after the name (``--rm judge:hf:/models/x``), :meth:`Registry.split`
reads ``NAME[:ARG]`` and ``package.module:attribute[:ARG]`` alike. Where a plug-in came from
(:meth:`Registry.origin`: the distribution and its version) is recorded in run manifests and leaderboard
submissions, so that a row names the package that produced it.
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
GROUP_PREFIX = "agentrm_bench."  # every registry's entry-point group starts with it


class UnknownPluginError(ValueError):
    """A name no registry knows, or a target that cannot be loaded (the message says which and why).

    Each kind of plug-in may raise its own subclass (``UnknownPolicyError``, ``ModelSpecError``); the
    command line answers all of them with one line and exit status 2.
    """


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

    def __init__(
        self,
        kind: str,
        group: str,
        builtins: Mapping[str, str | T] | None = None,
        error: type[UnknownPluginError] = UnknownPluginError,
    ):
        self.kind = kind  # how messages name one of these: "policy", "reward model", ...
        self.group = group
        self.error = error
        self._builtins: dict[str, str | T] = dict(builtins or {})
        self._registered: dict[str, str | T] = {}
        self._loaded: dict[str, T] = {}

    # ------------------------------------------------------------------ naming
    def register(self, name: str, target: str | T) -> None:
        """Add (or replace) ``name``; ``target`` is an object or a lazy ``"module:attribute"`` string."""
        if not name or not isinstance(name, str) or ":" in name:
            raise ValueError(f"a {self.kind} needs a non-empty name without ':', got {name!r}")
        self._registered[name] = target
        self._loaded.pop(name, None)

    def unregister(self, name: str) -> None:
        self._registered.pop(name, None)
        self._loaded.pop(name, None)

    def names(self) -> list[str]:
        """Every known name: built-in ones first (in their declared order), then the others sorted."""
        others = sorted({*self._registered, *self._entry_point_map()} - set(self._builtins))
        return [*self._builtins, *others]

    def builtin_names(self) -> list[str]:
        return list(self._builtins)

    def declared(self, name: str) -> str | T | None:
        """What ``name`` was registered or built in as (a lazy string or an object), loading nothing;
        None for entry points and unknown names."""
        return self._registered.get(name, self._builtins.get(name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (
            name in self._registered or name in self._builtins or name in self._entry_point_map()
        )

    def split(self, spec: str) -> tuple[str, str | None]:
        """(name, argument) of ``NAME[:ARG]`` or ``package.module:attribute[:ARG]``; the argument is None
        when there is none (``hf:`` gives ``""``). A known name wins over the module form."""
        if spec in self:
            return spec, None
        head, sep, rest = spec.partition(":")
        if sep and head in self:
            return head, rest
        attribute, sep_argument, argument = rest.partition(":")
        if sep and is_module_attribute(f"{head}:{attribute}"):
            return f"{head}:{attribute}", argument if sep_argument else None
        raise self.error(self.unknown_message(spec))

    def unknown_message(self, name: str, reason: str | None = None) -> str:
        known = ", ".join(self.names()) or "none"
        tail = f" ({reason})" if reason else ""
        return f"unknown {self.kind} {name!r}; known: {known} (or package.module:attribute){tail}"

    # ------------------------------------------------------------------ loading
    def load(self, name: str) -> T:
        """The target of ``name``, or of ``name`` read as ``module:attribute`` when it is no known name."""
        if name in self._loaded and (name in self or is_module_attribute(name)):  # not a plug-in uninstalled since
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
                dist = getattr(point, "dist", None)
                shipped = f" of {dist.metadata['Name']} {dist.version}" if dist is not None else ""
                raise self.error(
                    f"{self.kind} {name!r} (entry point {point.value}{shipped}, group {self.group}) cannot be "
                    f"loaded: {type(exc).__name__}: {exc}"
                ) from exc
        elif is_module_attribute(name):
            try:
                target = import_target(name)
            except UnknownPluginError as exc:
                raise self.error(self.unknown_message(name, str(exc))) from exc
        else:
            raise self.error(self.unknown_message(name))
        if isinstance(target, str):
            try:
                target = import_target(target, f"{self.kind} {name!r}")
            except UnknownPluginError as exc:
                raise self.error(str(exc)) from exc
        self._loaded[name] = target
        return target

    def origin(self, name: str) -> Origin:
        """Where ``name`` comes from (for manifests and submissions); loads nothing."""
        if name in self._registered:
            target = self._registered[name]
            text = target if isinstance(target, str) else describe(target)
            return Origin("registered", text, *distribution_of(text))
        if name in self._builtins:
            target = self._builtins[name]
            text = target if isinstance(target, str) else describe(target)
            return Origin("builtin", text, *distribution_of("agentrm_bench:x"))
        point = self._entry_point_map().get(name)
        if point is not None:
            dist = getattr(point, "dist", None)
            package = dist.metadata["Name"] if dist is not None else None
            version = dist.version if dist is not None else None
            return Origin("entry-point", point.value, package, version)
        if is_module_attribute(name):
            return Origin("module", name, *distribution_of(name))
        raise self.error(self.unknown_message(name))

    # ------------------------------------------------------------------ entry points
    def _entry_point_map(self) -> dict[str, metadata.EntryPoint]:
        """Entry points of this group, rescanned when ``sys.path`` changed (a package installed meanwhile)."""
        return _entry_points().get(self.group, {})

    def refresh(self) -> None:
        """Forget what was scanned and loaded (after installing a plug-in in a running process)."""
        global _SCAN, _DISTRIBUTIONS
        _SCAN = _DISTRIBUTIONS = None
        self._loaded.clear()
        importlib.invalidate_caches()


# One scan of the installed distributions serves every registry (and is redone when sys.path changes).
_SCAN: tuple[tuple[str, ...], dict[str, dict[str, metadata.EntryPoint]]] | None = None
_DISTRIBUTIONS: tuple[tuple[str, ...], Mapping[str, list[str]]] | None = None


def _entry_points() -> dict[str, dict[str, metadata.EntryPoint]]:
    global _SCAN
    path = tuple(sys.path)
    if _SCAN is None or _SCAN[0] != path:
        found: dict[str, dict[str, metadata.EntryPoint]] = {}
        for dist in metadata.distributions():
            for point in dist.entry_points:
                if point.group.startswith(GROUP_PREFIX):
                    found.setdefault(point.group, {}).setdefault(point.name, point)  # first on sys.path wins
        _SCAN = (path, found)
    return _SCAN[1]


def is_module_attribute(text: str) -> bool:
    """Whether ``text`` has the ``package.module:attribute`` form."""
    return bool(_MODULE_ATTRIBUTE.fullmatch(text))


def import_target(target: str, what: str | None = None) -> Any:
    """Import ``"module:attribute"`` (the attribute may be dotted); errors say what was being loaded."""
    module_name, _, attribute = target.partition(":")
    try:
        value: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            value = getattr(value, part)
    except Exception as exc:  # noqa: BLE001 - whatever a plug-in's import raises, the user gets one line
        prefix = f"{what}: " if what else ""
        raise UnknownPluginError(f"{prefix}cannot load {target}: {type(exc).__name__}: {exc}") from exc
    return value


def distribution_of(target: str) -> tuple[str | None, str | None]:
    """(distribution name, version) that ships the top-level module of ``"module:attribute"``, if installed."""
    global _DISTRIBUTIONS
    top = target.partition(":")[0].split(".")[0]
    try:  # the common case, a distribution named like its module (agentrm_bench -> agentrm-bench): cheap
        dist = metadata.distribution(top)
        return dist.metadata["Name"], dist.version
    except metadata.PackageNotFoundError:
        pass
    path = tuple(sys.path)
    if _DISTRIBUTIONS is None or _DISTRIBUTIONS[0] != path:
        try:
            _DISTRIBUTIONS = (path, metadata.packages_distributions())
        except Exception:  # noqa: BLE001 - odd installations: unknown, not fatal
            _DISTRIBUTIONS = (path, {})
    for name in _DISTRIBUTIONS[1].get(top) or []:
        try:
            return metadata.distribution(name).metadata["Name"], metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None, None


def describe(target: Callable[..., Any] | Any) -> str:
    """``module:qualname`` of a class or function (the object's repr for anything else)."""
    if not hasattr(target, "__qualname__"):  # an instance: name its class
        target = type(target)
    module = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", None)
    return f"{module}:{qualname}" if module and qualname else repr(target)
