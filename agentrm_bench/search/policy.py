"""The registered LLM policies: ``greedy``, ``best-of-n``, ``beam`` -- a model, a reward model, a search.

A policy is a pinned combination: every setting that changes what it does (model and reward-model
specs, N, beam width and expansions, temperature, token limit, prompt form) is in :meth:`settings`,
which goes into the run manifest, so a leaderboard row can be re-run exactly. Specs are checked when
the policy is created (before a run directory is written); models load on first use, in the process
that plays the episodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..llm import check_spec, make_llm
from ..llm.base import LLM, ModelSpecError, run_sync
from ..policies import Policy
from ..prompts.react import ReActPrompter
from ..rewards import check_spec as check_rm
from ..rewards import make_rm
from ..rewards.base import RewardModel
from . import strategies
from .run import EpisodeRun, Sampling

if TYPE_CHECKING:
    import gymnasium as gym

    from ..episode import EpisodeRecord


DEFAULT_MAX_TOKENS = 256
EMBEDDED_MAX_TOKENS = 64


class SearchPolicy(Policy):
    """Shared machinery; the subclasses fix the strategy and its defaults."""

    strategy = "greedy"
    in_process = True
    in_flight = 8
    needs_rm = False

    def __init__(
        self,
        model: str | None = None,
        rm: str | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        show_actions: bool = False,
        example: bool = True,
        rm_options: dict[str, Any] | None = None,
        model_options: dict[str, Any] | None = None,
        history: int | None = None,
    ):
        check_spec(model)
        if rm is not None:
            check_rm(rm)
        elif self.needs_rm:
            raise ModelSpecError(
                f"{self.strategy} needs a reward model: --rm explicit:PATH | implicit:POLICY,REF | judge:MODEL | oracle"
            )
        if not isinstance(temperature, int | float) or temperature < 0:
            raise ModelSpecError(f"temperature must be a number >= 0, got {temperature!r}")
        if max_tokens is None:  # a reply is two short lines; the small embedded model rambles if let
            max_tokens = EMBEDDED_MAX_TOKENS if model in (None, "default") else DEFAULT_MAX_TOKENS
        if not isinstance(max_tokens, int) or max_tokens < 1:
            raise ModelSpecError(f"max_tokens must be a positive integer, got {max_tokens!r}")
        self.model_spec = model or "default"
        self.rm_spec = rm
        self.temperature = float(temperature)
        self.max_tokens = max_tokens
        self.show_actions = bool(show_actions)
        self.example = bool(example)
        if history is not None and (not isinstance(history, int) or history < 0):
            raise ModelSpecError(f"history must be a number of steps >= 0, got {history!r}")
        self.history = history  # steps shown to the model (None: all); a policy fine-tuned on a window uses it
        self.rm_options = dict(rm_options or {})
        self.model_options = dict(model_options or {})
        self._llm: LLM | None = None
        self._rm: RewardModel | None = None
        self._prompters: dict[str, ReActPrompter] = {}

    # ------------------------------------------------------------------ settings
    def strategy_settings(self) -> dict[str, Any]:
        return {}

    def settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "strategy": self.strategy,
            "model": self.model_spec,
            "rm": self.rm_spec,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "prompt": {
                "format": "react",
                "show_actions": self.show_actions,
                "example": self.example,
                **({"history": self.history} if self.history is not None else {}),
            },
            **self.strategy_settings(),
        }
        if self.rm_options:
            settings["rm_options"] = self.rm_options
        if self.model_options:
            settings["model_options"] = self.model_options
        if self.rm_spec == "oracle":
            settings["upper_bound"] = True  # guided by the environment's own progress: not a fair score
        return settings

    # ------------------------------------------------------------------ lazily built parts
    @property
    def llm(self) -> LLM:
        if self._llm is None:
            self._llm = make_llm(self.model_spec, **self.model_options)
        return self._llm

    @property
    def rm(self) -> RewardModel | None:
        if self._rm is None and self.rm_spec is not None:
            self._rm = make_rm(self.rm_spec, **self.rm_options)
        return self._rm

    def prompter(self, task: str) -> ReActPrompter:
        if task not in self._prompters:
            self._prompters[task] = ReActPrompter(
                task, show_actions=self.show_actions, use_example=self.example, history=self.history
            )
        return self._prompters[task]

    # ------------------------------------------------------------------ playing
    def play_episode(self, env: gym.Env, record: EpisodeRecord) -> None:
        async def play_then_close() -> None:
            try:
                await self.aplay_episode(env, record)
            finally:
                await self.aclose()

        run_sync(play_then_close())

    async def aclose(self) -> None:
        """Close the models' per-event-loop resources (HTTP clients) before the loop ends."""
        for model in (self._llm, getattr(self._rm, "llm", None)):
            if model is not None:
                await model.aclose()

    async def aplay_episode(self, env: gym.Env, record: EpisodeRecord) -> None:
        run = EpisodeRun(
            env=env,
            task=record.task,
            index=record.index,
            seed=record.seed,
            llm=self.llm,
            prompter=self.prompter(record.task),
            sampling=Sampling(self.temperature, self.max_tokens),
            rm=self.rm,
        )
        node, search = await self.search(run)
        run.fill(record, node, search)

    async def search(self, run: EpisodeRun) -> tuple[Any, dict[str, Any]]:
        return await strategies.greedy(run, self.temperature)


class GreedyPolicy(SearchPolicy):
    """One sample per step; temperature 0 (greedy decoding) unless set."""

    strategy = "greedy"


class BestOfNPolicy(SearchPolicy):
    """N sampled trajectories, the reward model picks one (only its outcome counts)."""

    strategy = "best-of-n"
    needs_rm = True

    def __init__(self, n: int = 5, temperature: float = 0.7, **options: Any):
        if not isinstance(n, int) or n < 1:
            raise ModelSpecError(f"n must be a positive integer, got {n!r}")
        if n > 1 and temperature == 0:
            raise ModelSpecError("best-of-n with n > 1 needs a temperature above 0 (else the N samples are equal)")
        super().__init__(temperature=temperature, **options)
        self.n = n

    def strategy_settings(self) -> dict[str, Any]:
        return {"n": self.n}

    async def search(self, run: EpisodeRun) -> tuple[Any, dict[str, Any]]:
        return await strategies.best_of_n(run, self.n, self.temperature)


class BeamPolicy(SearchPolicy):
    """Step-level beam search: W beams, K sampled expansions each, scored by the reward model."""

    strategy = "beam"
    needs_rm = True

    def __init__(self, beam_width: int = 2, expansions: int = 3, temperature: float = 0.7, **options: Any):
        for name, value in (("beam_width", beam_width), ("expansions", expansions)):
            if not isinstance(value, int) or value < 1:
                raise ModelSpecError(f"{name} must be a positive integer, got {value!r}")
        super().__init__(temperature=temperature, **options)
        self.beam_width = beam_width
        self.expansions = expansions

    def strategy_settings(self) -> dict[str, Any]:
        return {"beam_width": self.beam_width, "expansions": self.expansions}

    async def search(self, run: EpisodeRun) -> tuple[Any, dict[str, Any]]:
        return await strategies.beam(run, self.beam_width, self.expansions, self.temperature)
