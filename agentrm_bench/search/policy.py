"""The registered LLM policies: ``greedy``, ``best-of-n``, ``beam`` and ``search`` -- a model, a reward
model, a search strategy.

A policy is a pinned combination: every setting that changes what it does (model and reward-model
specs, the strategy and its settings, temperature, token limit, prompt form) is in :meth:`settings`,
which goes into the run manifest together with the reward model's identity (name, base model, size,
weights digest, package and version), so a leaderboard row can be re-run exactly. Specs are checked
when the policy is created (before a run directory is written); models load on first use, in the process
that plays the episodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import rewards
from ..llm import SPECS as llm_specs
from ..llm import check_spec, make_llm, trained_prompt
from ..llm.base import LLM, ModelSpecError, run_sync
from ..policies import Policy
from ..prompts.react import ReActPrompter
from ..rewards.base import RewardModel
from . import strategy as strategy_registry
from .run import EpisodeRun, Sampling

if TYPE_CHECKING:
    import gymnasium as gym

    from ..episode import EpisodeRecord


DEFAULT_MAX_TOKENS = 256
EMBEDDED_MAX_TOKENS = 64


class SearchPolicy(Policy):
    """Shared machinery: an LLM proposes, a search strategy (from the strategy registry) decides, an
    optional reward model scores. Settings the policy does not know go to the strategy's constructor."""

    strategy = "greedy"  # the strategy's registry name; the subclasses fix it
    in_process = True
    in_flight = 8

    def __init__(
        self,
        model: str | None = None,
        rm: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        show_actions: bool = False,
        example: bool | None = None,
        rm_options: dict[str, Any] | None = None,
        model_options: dict[str, Any] | None = None,
        history: int | None = None,
        **strategy_settings: Any,
    ):
        self.search_strategy = strategy_registry.create(self.strategy, **strategy_settings)
        if temperature is None:
            temperature = self.search_strategy.default_temperature
        if not isinstance(temperature, int | float) or temperature < 0:
            raise ModelSpecError(f"temperature must be a number >= 0, got {temperature!r}")
        self.search_strategy.check(temperature)
        check_spec(model)
        if rm is not None:
            rewards.check_spec(rm)
        elif self.search_strategy.needs_rm:
            raise ModelSpecError(f"{self.strategy} needs a reward model: --rm {' | '.join(rewards.usages())}")
        if max_tokens is None:  # a reply is two short lines; the small embedded model rambles if let
            embedded = llm_specs.parse(model or "default")[0] == "default"
            max_tokens = EMBEDDED_MAX_TOKENS if embedded else DEFAULT_MAX_TOKENS
        if not isinstance(max_tokens, int) or max_tokens < 1:
            raise ModelSpecError(f"max_tokens must be a positive integer, got {max_tokens!r}")
        self.model_spec = model or "default"
        self.rm_spec = rm
        self.temperature = float(temperature)
        self.max_tokens = max_tokens
        self.show_actions = bool(show_actions)
        trained = trained_prompt(model)  # a fine-tuned policy is prompted as it was trained unless told otherwise
        self.example = bool(trained.get("example", True) if example is None else example)
        if history is None:
            history = trained.get("history")
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
        return self.search_strategy.settings()

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
        plugins = self.plugin_origins()
        if plugins:
            settings["plugins"] = plugins
        if self.rm_spec is not None and self.rm is not None:
            # Which reward model exactly (its weights digest, package and version): a resume with other
            # weights is refused, and a submission shows and a verifier checks them.
            settings["reward_model"] = {
                "identity": rewards.identify(self.rm_spec, self.rm).to_json(),
                "settings": self.rm.settings(),
            }
            if self.rm.upper_bound:
                settings["upper_bound"] = True  # guided by the environment's own progress: not a fair score
        return settings

    def plugin_origins(self) -> dict[str, Any]:
        """Package and version of a strategy or model backend that is not built in (the reward model's
        are in its identity); empty for built-ins, so their settings stay as they were."""
        found: dict[str, Any] = {}
        if self.strategy not in strategy_registry.BUILTIN:
            found["strategy"] = strategy_registry.REGISTRY.origin(self.strategy).to_json()
        backend = llm_specs.parse(self.model_spec)[0]
        if backend not in llm_specs.registry.builtin_names():
            found["model"] = llm_specs.origin(self.model_spec).to_json()
        return found

    # ------------------------------------------------------------------ lazily built parts
    @property
    def llm(self) -> LLM:
        if self._llm is None:
            self._llm = make_llm(self.model_spec, **self.model_options)
        return self._llm

    @property
    def rm(self) -> RewardModel | None:
        if self._rm is None and self.rm_spec is not None:
            self._rm = rewards.make_rm(self.rm_spec, **self.rm_options)
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
        return await self.search_strategy.search(run, self.temperature)


class GreedyPolicy(SearchPolicy):
    """One sample per step; temperature 0 (greedy decoding) unless set."""

    strategy = "greedy"


class BestOfNPolicy(SearchPolicy):
    """N sampled trajectories (``n``, default 5), the reward model picks one (only its outcome counts)."""

    strategy = "best-of-n"


class BeamPolicy(SearchPolicy):
    """Step-level beam search: ``beam_width`` beams, ``expansions`` sampled actions each, RM-scored."""

    strategy = "beam"


class StrategyPolicy(SearchPolicy):
    """Any registered search strategy (``strategy=NAME`` or ``module:attribute``) with its settings."""

    def __init__(self, strategy: str | None = None, **settings: Any):
        if not strategy:
            known = ", ".join(strategy_registry.names())
            raise ModelSpecError(f"the search policy needs --policy-arg strategy=NAME ({known} or module:attribute)")
        self.strategy = strategy
        super().__init__(**settings)
