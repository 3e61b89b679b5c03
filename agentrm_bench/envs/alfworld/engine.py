"""The ALFWorld text engine, run in a child process of its own.

The engine is upstream's text-only stack, built the way alfworld's ``AlfredTWEnv`` builds it for
evaluation: TextWorld's ``GenericEnvironment`` (which picks the PDDL backend for a ``.tw-pddl`` game and
reuses it from game to game) wrapped by alfworld's ``AlfredDemangler`` (no shuffling) and
``AlfredInfos``, asking for ``won`` and ``admissible_commands``. Upstream's own batch environment runs
each game in a child process too; here that buys three things:

* a simulator that dies (Fast Downward is C++ loaded with ctypes) or hangs surfaces in the parent as
  :class:`EngineError` -- the harness records an error and a rerun retries -- instead of killing the
  harness's worker with it;
* the translator's process-global side effects (it rewrites ``sys.argv``) stay out of the caller;
* a worker keeps one warm engine across episodes.

Two measured costs are avoided without changing what the engine computes. The PDDL-to-SAS translation
(80% of a reset) is a pure function of the game file, which the engine repeats on every load and
reset; it is memoised for the last few games, and kept on disk for every game (:mod:`.cache`). The
expert's plan is Fast Downward's ``replan`` -- the same call behind alfworld's
``AlfredExpert(expert_type="planner")`` -- made only when an expert action is asked for, not after every
step of every policy (and cached on disk by the environment).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import traceback
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from . import cache
from .progress import PREDICATES, Fact

DEFAULT_TIMEOUT_S = 600.0  # the slowest expert episode here (one long first plan) took 230 s on a loaded machine
_TRANSLATIONS_KEPT = 4  # games whose translations are kept (two each: plain and optimised)
_SAVES_KEPT = 2048  # engine states kept for branching (tens of kB each); restoring an evicted one replays
_PACKAGE_PARENT = Path(__file__).resolve().parents[3]  # the folder holding agentrm_bench


class EngineError(RuntimeError):
    """The engine process died, hung or raised: the episode cannot go on (reset starts a fresh one)."""


@dataclass(frozen=True)
class EngineState:
    """What the engine reports after a reset or a command."""

    feedback: str
    admissible: tuple[str, ...]
    won: bool
    facts: tuple[Fact, ...]  # the facts the progress milestones read (lower-case PDDL names)


@dataclass(frozen=True)
class SavedToken:
    """Names a state kept inside one engine process: valid only there, and only while its game stays loaded."""

    pid: int
    generation: int
    number: int


class Engine:
    """A handle on one engine process; it is started on first use and again after it died.

    The process is ``python -m agentrm_bench.envs.alfworld.engine`` talking over a socket pair, not a
    multiprocessing child: a spawned child would re-run the caller's ``__main__`` script.
    """

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S):
        self.timeout_s = timeout_s
        self._process: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._game: str | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def start(self, game_file: str) -> EngineState:
        """Load ``game_file`` (unless it is the game already loaded) and reset it."""
        if self._process is None or self._process.poll() is not None:
            self._spawn()
        if game_file != self._game:
            self._game = None
            self._call("load", game_file)
            self._game = game_file
        return self._call("reset")

    def step(self, command: str) -> EngineState:
        return self._call("step", command)

    def plan(self) -> list[str]:
        """The planner's commands from the current state to the goal ([] if it finds none)."""
        return self._call("plan")

    def save(self) -> SavedToken:
        """Keep the engine's current state so that :meth:`restore` can return to it (see :class:`_Server`)."""
        pid = self.pid
        generation, number = self._call("save")
        return SavedToken(pid or 0, generation, number)

    def restore(self, token: SavedToken) -> EngineState | None:
        """Return to a state :meth:`save` kept; None when this engine no longer has it (another process, a
        restarted engine, another game loaded since, or evicted): the caller replays instead."""
        if self._conn is None or token.pid != self.pid or self._game is None:
            return None
        return self._call("restore", token.generation, token.number)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.send(("close",))
            except OSError:
                pass
            self._conn.close()
        if self._process is not None:
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = self._conn = None
        self._game = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown; nothing left to report to
            pass

    # ------------------------------------------------------------------ internals
    def _spawn(self) -> None:
        self.close()
        parent, child = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PACKAGE_PARENT), env.get("PYTHONPATH", "")) if p)
        with child:
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(child.fileno())],
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # the translator chats on stdout; errors still reach stderr
                env=env,
            )
        self._conn = Connection(parent.detach())

    def _call(self, op: str, *args: Any) -> Any:
        if self._conn is None or self._process is None:
            raise EngineError("the ALFWorld engine is not running: call reset() first")
        process, conn = self._process, self._conn
        try:
            conn.send((op, *args))
            if not conn.poll(self.timeout_s):
                self._kill()
                raise EngineError(f"the ALFWorld engine gave no answer to {op!r} in {self.timeout_s:.0f} s")
            status, payload = conn.recv()
        except (EOFError, OSError) as exc:
            try:
                code = process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
            self._kill()
            message = f"the ALFWorld engine process (pid {process.pid}) died during {op!r} (exit code {code})"
            raise EngineError(message) from exc
        if status == "error":
            self._game = None  # the engine may be half-way through a change: reload before reuse
            raise EngineError(f"the ALFWorld engine failed on {op!r}:\n{payload}")
        return payload

    def _kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
        if self._process is not None:
            self._process.wait()
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None
        self._game = None


# ---------------------------------------------------------------------- the child process
def _serve(conn: Connection) -> None:
    """The engine process: answer (op, *args) messages until told to close or the parent goes away."""
    server = _Server()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        op, args = message[0], message[1:]
        if op == "close":
            return
        try:
            reply = ("ok", getattr(server, op)(*args))
        except Exception:  # noqa: BLE001 - reported to the parent, which raises EngineError
            reply = ("error", traceback.format_exc(limit=12))
        conn.send(reply)


class _Server:
    """The engine: upstream's environment stack, plus states kept for branching.

    Branching. Fast Downward keeps every state it has reached in a registry and the current one as an
    id that its library can set (``set_state_id``, exported but not wrapped by ``fast_downward``); the
    rest of a PddlEnv's state is Python (the fact sets of its ``PddlState``, the last two game states
    and the move count). :meth:`save` keeps both, :meth:`restore` puts them back and lists the
    applicable operators again, which PddlState's next step reads. A saved state is valid while its
    game stays loaded (loading builds a new registry): :attr:`_generation` counts loads, and a reset
    of the loaded game returns to its saved initial state instead of translating and loading the game
    again, so resets do not drop the states an episode's search kept. Nothing random is involved
    (PddlEnv's grammar has no random choice), so a restored state answers exactly as a replayed one,
    which tests/test_alfworld.py checks on every command of random walks.
    """

    def __init__(self) -> None:
        import textworld
        from alfworld.agents.environment.alfred_tw_env import AlfredDemangler, AlfredInfos
        from textworld.envs.wrappers import GenericEnvironment

        _memoise_translation()
        infos = textworld.EnvInfos(won=True, admissible_commands=True, extras=["gamefile"])
        self._generic = GenericEnvironment(infos)
        self._env = AlfredInfos(AlfredDemangler(shuffle=False)(self._generic))
        self._state: Any = None
        self._generation = 0
        self._saved: OrderedDict[int, _Saved] = OrderedDict()
        self._initial: int | None = None  # the saved initial state of the loaded game
        self._next = 0

    def load(self, game_file: str) -> None:
        self._generation += 1
        self._saved.clear()
        self._initial = None
        self._env.load(game_file)

    def reset(self) -> EngineState:
        if self._initial is not None and self._initial in self._saved:
            return self.restore(self._generation, self._initial)
        self._generation += 1  # a new PddlState loads the game into the library again
        self._saved.clear()
        self._state = self._env.reset()
        _, self._initial = self.save()
        return self._report()

    def step(self, command: str) -> EngineState:
        self._state, _, _ = self._env.step(command)
        return self._report()

    def plan(self) -> list[str]:
        pddl = self._generic._wrapped_env  # the PddlEnv the generic wrapper chose for this game
        return list(pddl._pddl_state.replan(pddl._entity_infos))

    def save(self) -> tuple[int, int]:
        pddl = self._generic._wrapped_env
        state = pddl._pddl_state
        self._next += 1
        self._saved[self._next] = _Saved(
            state_id=pddl.downward_lib.get_state_id(),
            facts={signature: set(props) for signature, props in state._facts.items()},
            vars_by_name=dict(state._vars_by_name),
            vars_by_type={kind: set(names) for kind, names in state._vars_by_type.items()},
            var_counts=state._var_counts.copy(),
            game_state=pddl.state,
            previous_game_state=pddl.prev_state,
            last_action=pddl._last_action,
            moves=pddl._moves,
            reported=self._state,
        )
        while len(self._saved) > _SAVES_KEPT:
            oldest = next(iter(self._saved))
            if oldest == self._initial:  # resets need it: keep it, evict the next oldest
                self._saved.move_to_end(oldest)
                continue
            self._saved.popitem(last=False)
        return self._generation, self._next

    def restore(self, generation: int, number: int) -> EngineState | None:
        saved = self._saved.get(number) if generation == self._generation else None
        if saved is None:
            return None
        pddl = self._generic._wrapped_env
        state = pddl._pddl_state
        pddl.downward_lib.set_state_id(saved.state_id)
        state._facts = defaultdict(set, {signature: set(props) for signature, props in saved.facts.items()})
        state._vars_by_name = dict(saved.vars_by_name)
        state._vars_by_type = defaultdict(set, {kind: set(names) for kind, names in saved.vars_by_type.items()})
        state._var_counts = saved.var_counts.copy()
        # The next step names its operator by an id from the saved game state's list, which PddlState
        # resolves against the operators it listed last (in whatever state that was): list them again.
        state.all_applicable_actions()
        pddl.state, pddl.prev_state = saved.game_state, saved.previous_game_state
        pddl._last_action, pddl._moves = saved.last_action, saved.moves
        self._state = saved.reported
        self._saved.move_to_end(number)
        return self._report()

    def _report(self) -> EngineState:
        pddl = self._generic._wrapped_env
        facts = tuple(
            (fact.name, *(arg.name for arg in fact.arguments))
            for fact in pddl._pddl_state.facts
            if fact.name in PREDICATES
        )
        state = self._state
        return EngineState(state["feedback"], tuple(state["admissible_commands"]), bool(state["won"]), facts)


@dataclass
class _Saved:
    """One state kept by :meth:`_Server.save`: the library's state id and the Python state around it."""

    state_id: int
    facts: dict[Any, set]
    vars_by_name: dict[str, Any]
    vars_by_type: dict[str, set]
    var_counts: Counter
    game_state: Any
    previous_game_state: Any
    last_action: Any
    moves: int
    reported: Any


def _memoise_translation() -> None:
    """Keep the PDDL-to-SAS translations of the last few games in memory, and every one on disk.

    The translation is a pure function of its inputs. Its result is a pair: the parsed, normalised PDDL
    task and the SAS text. Only the text is stored (the task is a graph of translator objects); a cache
    hit parses and normalises the task again (2% of the translation's cost), which gives the very object
    the translator returns (checked pickle-equal on test games).
    """
    import fast_downward

    translate = fast_downward.pddl2sas
    if getattr(translate, "memoised", False):
        return
    kept: OrderedDict[tuple, Any] = OrderedDict()

    def pddl2sas(domain: str, problem: str, verbose: bool = False, optimize: bool = False):
        key = (domain, problem, verbose, optimize)
        if key in kept:
            kept.move_to_end(key)
        else:
            kept[key] = _translated(translate, domain, problem, verbose, optimize)
            while len(kept) > 2 * _TRANSLATIONS_KEPT:
                kept.popitem(last=False)
        return kept[key]

    pddl2sas.memoised = True  # type: ignore[attr-defined]
    fast_downward.pddl2sas = pddl2sas


def _translated(translate: Any, domain: str, problem: str, verbose: bool, optimize: bool) -> tuple[Any, str]:
    """(task, SAS text): the text from the disk cache when it is there, else from ``translate`` (then stored)."""
    if verbose:  # the translator's own report is wanted: run it
        return translate(domain, problem, verbose=verbose, optimize=optimize)
    key = cache.translation_key(domain, problem, optimize)
    sas = cache.read(cache.TRANSLATIONS, key, lambda value: isinstance(value, str) and bool(value))
    if sas is None:
        task, sas = translate(domain, problem, verbose=verbose, optimize=optimize)
        cache.write(cache.TRANSLATIONS, key, sas)
        return task, sas
    return _parsed_task(domain, problem), sas


def _parsed_task(domain: str, problem: str) -> Any:
    """The first half of ``fast_downward.pddl2sas``: the PDDL task, parsed and normalised."""
    sys.argv = ["translate.py", "domain", "task"]  # the translator's options module reads it on import
    from fast_downward.translate import normalize
    from fast_downward.translate.pddl_parser import lisp_parser, parsing_functions

    task = parsing_functions.parse_task(
        lisp_parser.parse_nested_list(domain.split("\n")), lisp_parser.parse_nested_list(problem.split("\n"))
    )
    normalize.normalize(task)
    return task


if __name__ == "__main__":
    # Serve from the module under its package name, so that replies unpickle in the parent.
    from agentrm_bench.envs.alfworld.engine import _serve as serve

    serve(Connection(int(sys.argv[1])))
