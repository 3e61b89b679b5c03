"""The policy registry: a name maps to a factory, imported only when the policy is used.

Reward-model-guided policies (an LLM, a reward model and a search strategy) register here too, so
that ``agentrm-bench run --policy NAME`` reaches every one of them. A policy outside the package is
named ``module:attribute``; an installed package adds policies through the entry-point group
``agentrm_bench.policies``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np

from .registry import Origin, Registry, UnknownPluginError

if TYPE_CHECKING:
    from .episode import EpisodeRecord


class UnknownPolicyError(UnknownPluginError):
    """A policy name that is not registered, or one that cannot be loaded."""


class PolicyConfigError(UnknownPolicyError):
    """A policy's settings are wrong (a model spec, a missing reward model, ...): a usage error."""


class Policy:
    """Chooses the next action from the current observation -- or plays whole episodes.

    ``settings()`` returns everything that pins the policy's behaviour; it goes into the run manifest
    so that a run can be reproduced and a changed configuration is detected on resume.

    A step-by-step policy implements :meth:`act`. A policy that needs the whole episode (Best-of-N
    samples N trajectories, beam search branches on snapshots) overrides :meth:`play_episode` (and,
    to run concurrently with other episodes, :meth:`aplay_episode`): it resets ``env`` itself and
    fills ``record`` with the ONE trajectory it chose (goal, actions, observations, rewards,
    valid_actions, progress, success, terminated, truncated, tokens; optional per-strategy data in
    ``record.extra``). The harness still writes exactly one record per episode.
    """

    # Model policies run their episodes in the driver process by default (one model in memory,
    # requests of all episodes in flight batched together); simulators-only policies use workers.
    in_process: bool = False
    in_flight: int = 1  # episodes a process keeps in flight by default (their model calls batch together)

    def settings(self) -> dict[str, Any]:
        return {}

    def begin(self, *, task: str, index: int, seed: int) -> None:
        """Called before each episode; seeds any randomness from the episode's seed."""
        return None

    def act(self, env: gym.Env, observation: str, info: dict[str, Any]) -> str:
        raise NotImplementedError(f"{type(self).__name__} implements neither act() nor play_episode()")

    def play_episode(self, env: gym.Env, record: EpisodeRecord) -> None:
        """Play instance ``record.index`` with seed ``record.seed`` and fill ``record`` (see the class doc)."""
        from .episode import act_loop

        act_loop(self, env, record)

    async def aplay_episode(self, env: gym.Env, record: EpisodeRecord) -> None:
        """:meth:`play_episode` as a coroutine; the default runs the blocking version in place."""
        self.play_episode(env, record)

    def tokens_used(self) -> int:
        """Tokens generated in the current episode (0 for policies without a model)."""
        return 0


class ExpertPolicy(Policy):
    """The task's own expert (planner, gold path, solver): the reference that proves solvability."""

    needs_expert = True  # the harness checks each task's expert extra before the run starts

    def act(self, env: gym.Env, observation: str, info: dict[str, Any]) -> str:
        return env.unwrapped.expert_action()


class RandomPolicy(Policy):
    """Uniform over the admissible actions: the floor every other policy must beat."""

    def __init__(self) -> None:
        self._rng = np.random.default_rng(0)

    def begin(self, *, task: str, index: int, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def act(self, env: gym.Env, observation: str, info: dict[str, Any]) -> str:
        actions = info.get("admissible_actions")
        if not actions:
            # Tasks with free-form actions (tool calls) list none: random text, seeded, is the floor there.
            env.action_space.seed(int(self._rng.integers(2**31)))
            return env.action_space.sample()
        return str(actions[int(self._rng.integers(len(actions)))])


class NoisyExpertPolicy(Policy):
    """The task's expert, except that each step it acts at random with probability ``epsilon``.

    Candidates of graded quality without a language model: frozen candidate pools of noisy experts
    (several epsilons) are how reward models are compared before a trained policy exists, and they are
    labelled synthetic wherever they are shown. The random action is uniform over the admissible actions
    other than the expert's; a task that lists none (tools, Jericho) repeats one of the actions taken
    earlier in this episode instead (a plausible but mistimed action), and at its first step acts as the
    expert. Seeded by the episode seed, so a pool built twice is the same pool.
    """

    def __init__(self, epsilon: float = 0.2) -> None:
        if isinstance(epsilon, bool) or not isinstance(epsilon, int | float) or not 0 <= epsilon <= 1:
            raise PolicyConfigError(f"noisy-expert: epsilon must be a number in [0, 1], got {epsilon!r}")
        self.epsilon = float(epsilon)
        self._rng = np.random.default_rng(0)
        self._earlier: list[str] = []

    def settings(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon}

    def begin(self, *, task: str, index: int, seed: int) -> None:
        self._rng = np.random.default_rng(seed)
        self._earlier = []

    @staticmethod
    def alternatives(expert: str, info: dict[str, Any], earlier: Sequence[str] = ()) -> list[str]:
        """The actions a random step chooses among: every admissible one but the expert's, else the
        distinct actions taken ``earlier`` in the episode but the expert's."""
        listed = [str(a) for a in info.get("admissible_actions") or ()] or list(dict.fromkeys(earlier))
        return [a for a in listed if a != expert]

    def choices(self, env: gym.Env, info: dict[str, Any], earlier: Sequence[str] = ()) -> list[str]:
        """Every action it may take here, its preferred one (the expert's) first: a pool's siblings."""
        expert = env.unwrapped.expert_action()
        return [expert, *self.alternatives(expert, info, earlier)]

    def act(self, env: gym.Env, observation: str, info: dict[str, Any]) -> str:
        expert = env.unwrapped.expert_action()
        others = self.alternatives(expert, info, self._earlier)
        noisy = self._rng.random() < self.epsilon  # drawn every step, so epsilon alone decides the noise
        action = str(others[int(self._rng.integers(len(others)))]) if noisy and others else expert
        self._earlier.append(action)
        return action


class NoopPolicy(Policy):
    """Always the same fixed text: measures the harness's own cost per step."""

    def __init__(self, action: str = "wait") -> None:
        self.action = action

    def settings(self) -> dict[str, Any]:
        return {"action": self.action}

    def act(self, env: gym.Env, observation: str, info: dict[str, Any]) -> str:
        return self.action


BUILTIN: dict[str, str] = {
    "expert": "agentrm_bench.policies:ExpertPolicy",
    "random": "agentrm_bench.policies:RandomPolicy",
    "noisy-expert": "agentrm_bench.policies:NoisyExpertPolicy",  # frozen pools' synthetic candidates
    "noop": "agentrm_bench.policies:NoopPolicy",
    # LLM policies: a model, optionally a reward model, a search strategy (agentrm_bench.search).
    "greedy": "agentrm_bench.search.policy:GreedyPolicy",
    "best-of-n": "agentrm_bench.search.policy:BestOfNPolicy",
    "beam": "agentrm_bench.search.policy:BeamPolicy",
    "search": "agentrm_bench.search.policy:StrategyPolicy",  # any registered strategy: --policy-arg strategy=NAME
}
REGISTRY: Registry[Callable[..., Policy]] = Registry(
    "policy", "agentrm_bench.policies", BUILTIN, error=UnknownPolicyError
)


def register(name: str, factory: str | Callable[..., Policy]) -> None:
    """Add a policy: ``factory`` is a callable or a lazy ``"module:attribute"`` string."""
    REGISTRY.register(name, factory)


def names() -> list[str]:
    """Every policy name: the built-in ones, registered ones and those of installed plug-ins."""
    return REGISTRY.names()


def resolve(name: str) -> Callable[..., Policy]:
    """The factory of ``name`` (a registered name, an entry point or ``module:attribute``)."""
    factory = REGISTRY.load(name)
    if not callable(factory):
        raise UnknownPolicyError(f"policy {name!r} is a {type(factory).__name__}, not a class or factory")
    return factory


def origin(name: str) -> Origin:
    """Where policy ``name`` comes from (package and version of a plug-in), loading nothing."""
    return REGISTRY.origin(name)


def create(name: str, **settings: Any) -> Policy:
    factory = resolve(name)
    try:
        return factory(**settings)
    except TypeError as exc:
        raise UnknownPolicyError(f"policy {name!r} does not take settings {sorted(settings)}: {exc}") from exc
