"""What every command module of the CLI shares: the exit status of a user error, the error itself,
and the argument types, so that a bad number or setting reads the same under every command.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

EXIT_USAGE = 2


class UsageError(Exception):
    """A bad argument of a command; :func:`agentrm_bench.cli.main` prints it as one line and exits 2."""


def positive_int(text: str) -> int:
    value = non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text!r}")
    return value


def key_values(pairs: list[str], flag: str) -> dict[str, Any]:
    """``KEY=VALUE`` arguments of ``flag`` as a dict; a VALUE is parsed as JSON when it can be."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"{flag} takes KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out
