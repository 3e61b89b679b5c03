"""What a process that plays episodes holds and does: its cached environments and policy, an episode, a chunk.

Every way of running ends here, in whichever process plays: the driver (``workers=0``), a spawned pool
worker, or a Ray worker. A process builds each environment and the policy once and reuses them for
every episode it plays one at a time; the caches are module globals, so they live as long as the
process (one run for a pool worker; as long as Ray keeps the worker, across runs, for Ray). Episodes in
flight take the cached policy but make their own environments (see :mod:`.in_flight`).

An episode that raises becomes an error record -- retried by the next run, never scored -- because a
crashing simulator says nothing about the policy.
"""

from __future__ import annotations

import traceback
import zlib
from collections.abc import Callable, Iterator

import gymnasium as gym
import numpy as np

from .. import data, policies
from .. import tasks as task_table
from ..episode import EpisodeRecord, play
from ..manifest import RunConfig
from .in_flight import run_concurrently

ATTEMPTS = 3  # tries per episode within one run when its worker dies; a rerun tries again

# Per-process caches: a process builds each environment and the policy once. An environment is reused only by
# a run that would build the same one (same split, keyword arguments and data folder): a driver process may
# play several runs (tests, notebooks), and an env keeps what it loaded, e.g. annotation rows.
_ENVS: dict[tuple[str, ...], gym.Env] = {}
_POLICIES: dict[str, policies.Policy] = {}


def episode_seed(seed: int, task: str, index: int) -> int:
    """A stable per-episode seed, so that a resumed or re-sharded run replays the same episodes."""
    sequence = np.random.SeedSequence([seed, zlib.crc32(task.encode()), index])
    return int(sequence.generate_state(1)[0])


def lost_episode(config: RunConfig, task: str, index: int, reason: str) -> EpisodeRecord:
    """The error record of an episode whose worker was lost: says why; retried, never scored."""
    return EpisodeRecord(config.policy, task, index, episode_seed(config.seed, task, index), error=reason)


def new_policy(config: RunConfig) -> policies.Policy:
    """A fresh policy for a run, which episodes played in this process then reuse (built once per run)."""
    policy = policies.create(config.policy, **config.policy_settings)
    _POLICIES[_policy_key(config)] = policy
    return policy


def play_episode(config: RunConfig, task: str, index: int) -> EpisodeRecord:
    """One episode in this process, on its cached environment; a crash is the episode's error record."""
    seed = episode_seed(config.seed, task, index)
    try:
        key = _env_key(config, task)
        if key not in _ENVS:
            _ENVS[key] = gym.make(task_table.get(task).id, **config.env_kwargs(task))
        return play(_policy(config), _ENVS[key], policy_name=config.policy, task=task, index=index, seed=seed)
    except Exception:  # noqa: BLE001 - any crash is recorded and retried, never scored
        error = traceback.format_exc(limit=8)
        crashed = _ENVS.pop(_env_key(config, task), None)  # a crashed simulator is rebuilt for the next episode
        if crashed is not None:
            _close_quietly(crashed)  # its server process or container goes now, not at garbage collection
        return EpisodeRecord(config.policy, task, index, seed, error=error)


def stream_chunk(config: RunConfig, chunk: list[tuple[str, int]], in_flight: int) -> Iterator[EpisodeRecord]:
    """The records of ``chunk``'s episodes played in this process, each yielded when it is done.

    ``in_flight`` above 1 plays that many at once as coroutines (their model calls batch together);
    otherwise one after another on the cached environments.
    """
    if in_flight > 1:
        episodes = [(task, index, episode_seed(config.seed, task, index)) for task, index in chunk]
        yield from run_concurrently(_policy(config), config.policy, episodes, _env_factory(config), in_flight)
        return
    for task, index in chunk:
        yield play_episode(config, task, index)


def play_chunk(config: RunConfig, chunk: list[tuple[str, int]], in_flight: int) -> list[EpisodeRecord]:
    """Play this chunk here: all its records at once. What a pool worker or a Ray task is given to do."""
    return list(stream_chunk(config, chunk, in_flight))


def _env_key(config: RunConfig, task: str) -> tuple[str, ...]:
    kwargs = repr(sorted(config.env_kwargs(task).items()))
    return (task, config.split, kwargs, str(data.data_root()))


def close_envs() -> None:
    """Close and forget this process's cached environments (the next episode builds fresh ones)."""
    for env in _ENVS.values():
        _close_quietly(env)
    _ENVS.clear()


def _env_factory(config: RunConfig) -> Callable[[str], gym.Env]:
    return lambda task: gym.make(task_table.get(task).id, **config.env_kwargs(task))


def _policy_key(config: RunConfig) -> str:
    return repr((config.policy, sorted(config.policy_settings.items())))


def _policy(config: RunConfig) -> policies.Policy:
    key = _policy_key(config)
    if key not in _POLICIES:
        _POLICIES[key] = policies.create(config.policy, **config.policy_settings)
    return _POLICIES[key]


def _close_quietly(env: gym.Env) -> None:
    try:
        env.close()
    except Exception:  # noqa: BLE001 - already broken or closing; best effort
        pass
