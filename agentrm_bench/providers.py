"""Plug-ins named by a spec string ``NAME[:ARG]``: LLM backends (``hf:/models/x``) and reward models
(``judge:default``).

A :class:`Provider` is what such a name is registered as: a cheap ``check`` of the argument (a folder
exists, a URL looks like one, the optional packages are installed) that loads nothing, and a ``build``
that imports its implementation only when called -- so ``--rm explicit:PATH`` is refused before a run
directory is written, and naming the vLLM backend does not import vLLM. Built-ins are written with the
:func:`provider` decorator::

    @provider("hf", usage="hf:PATH", summary="a local transformers model folder", requires=("transformers",))
    def hf(argument: str | None, **options):
        from .hf import HFLLM
        return HFLLM(argument, **options)

A plug-in may register a Provider too, or simply a class (or any callable): it is then called as
``target(ARG, **options)`` when the spec has an argument and ``target(**options)`` when it has none, and
its optional ``check_spec(argument)`` static method is the cheap check. An instance of the product type
(an already built reward model, say) is used as it is.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .registry import Origin, Registry, UnknownPluginError, import_target

T = TypeVar("T")

Check = Callable[[str | None], None]


@dataclass(frozen=True)
class Provider(Generic[T]):
    """How ``NAME[:ARG]`` becomes an object: ``check(ARG)`` validates cheaply, ``build(ARG, **options)``
    imports lazily and constructs. ``ARG`` is None when the spec has no ``:``."""

    name: str
    build: Callable[..., T]
    check: Check | None = None
    usage: str = ""  # how to write the spec, e.g. "explicit:PATH" (help text and error messages)
    summary: str = ""  # one line on what it is
    requires: tuple[str, ...] = ()  # importable modules it needs ...
    extra: str | None = None  # ... and the agentrm-bench extra that installs them

    def __call__(self, argument: str | None = None, **options: Any) -> T:
        return self.build(argument, **options)


def provider(
    name: str,
    *,
    usage: str | None = None,
    summary: str = "",
    requires: tuple[str, ...] = (),
    extra: str | None = None,
    check: Check | None = None,
) -> Callable[[Callable[..., T]], Provider[T]]:
    """Decorate ``build(argument, **options)`` into a :class:`Provider` (see the module docstring)."""

    def wrap(build: Callable[..., T]) -> Provider[T]:
        return Provider(name, build, check, usage or name, summary or (build.__doc__ or "").strip(), requires, extra)

    return wrap


class SpecRegistry(Generic[T]):
    """A :class:`Registry` of providers, read through spec strings; ``what`` names a spec in messages."""

    def __init__(self, registry: Registry[Any], product: type, what: str, error: type[UnknownPluginError]):
        self.registry = registry
        self.product = product
        self.what = what
        self.error = error

    def usages(self) -> list[str]:
        """How every known name is written (built-ins and registered providers with their argument)."""
        shown = []
        for name in self.registry.names():
            target = self.registry.declared(name)
            if isinstance(target, str) and target.startswith("agentrm_bench."):
                target = self.registry.load(name)  # a built-in provider: cheap to import, knows its usage
            shown.append(target.usage if isinstance(target, Provider) else name)
        return shown

    def unknown(self, spec: str, reason: str | None = None) -> UnknownPluginError:
        tail = f" ({reason})" if reason else ""
        return self.error(
            f"unknown {self.what} {spec!r}: use {', '.join(self.usages())} or package.module:attribute{tail}"
        )

    def parse(self, spec: str) -> tuple[str, str | None]:
        """(name, argument) of ``spec``; an error listing the known names when it is none of them."""
        try:
            return self.registry.split(spec)
        except UnknownPluginError:
            raise self.unknown(spec) from None

    def provider(self, name: str) -> Provider[T]:
        """The provider registered as ``name`` (or found at ``name`` read as ``module:attribute``)."""
        if name not in self.registry:  # package.module:attribute: say why it is not one
            try:
                import_target(name)
            except UnknownPluginError as exc:
                raise self.unknown(name, str(exc)) from None
        return self._adapt(name, self.registry.load(name))

    def check(self, spec: str) -> tuple[str, str | None, Provider[T]]:
        """Validate ``spec`` without building anything: (name, argument, provider)."""
        name, argument = self.parse(spec)
        found = self.provider(name)
        if found.check is not None:  # the spec's own shape first: a malformed one is wrong whatever is installed
            found.check(argument)
        missing = [module for module in found.requires if importlib.util.find_spec(module) is None]
        if missing:
            install = f"pip install 'agentrm-bench[{found.extra}]'" if found.extra else f"pip install {missing[0]}"
            raise self.error(f"{found.usage} needs {', '.join(missing)}: {install}")
        return name, argument, found

    def make(self, spec: str, **options: Any) -> T:
        """Check ``spec``, then build it with ``options`` (passed to its constructor)."""
        name, argument, found = self.check(spec)
        try:
            built = found.build(argument, **options)
        except TypeError as exc:
            if "argument" not in str(exc):
                raise
            raise self.error(f"{self.what} {spec!r} does not take {sorted(options) or 'this argument'}: {exc}") from exc
        if not isinstance(built, self.product):
            raise self.error(f"{self.what} {spec!r} built a {type(built).__name__}, not a {self.product.__name__}")
        return built

    def origin(self, spec: str) -> Origin:
        """Where the plug-in named in ``spec`` comes from (package and version for the manifest)."""
        return self.registry.origin(self.parse(spec)[0])

    def _adapt(self, name: str, target: Any) -> Provider[T]:
        if isinstance(target, Provider):
            return target
        if isinstance(target, self.product):
            instance = target

            def reuse(argument: str | None, **options: Any) -> T:
                if argument is not None or options:
                    raise self.error(f"{self.what} {name!r} is a ready-made object: it takes no argument or options")
                return instance

            return Provider(name, reuse, usage=name)
        if not callable(target):
            raise self.error(f"{self.what} {name!r} is a {type(target).__name__}, not a class or provider")

        def call(argument: str | None, **options: Any) -> T:
            return target(**options) if argument is None else target(argument, **options)

        return Provider(name, call, getattr(target, "check_spec", None), getattr(target, "usage", name))
