"""WebShop (held-in task): buy the product an instruction describes in a simulated web shop.

The shop (princeton-nlp/WebShop) is a server: :class:`~.webshop_service.WebShopService` over a catalogue
(:mod:`.webshop_catalogue`), a BM25 search engine (:mod:`.webshop_search`) and upstream's reward
(:mod:`.webshop_reward`). Observations are upstream's text mode (:mod:`.webshop_pages`); actions are
``search[<query>]`` on the search page and ``click[<button>]`` on what the page shows. Buying ends the
episode: progress = the purchase reward (the paper's metric is its average x 100), success = reward 1.0.

``sandbox`` chooses where the shop runs: ``"local"`` (default; a subprocess), ``"docker"`` (a container)
through :mod:`agentrm_bench.sandbox`, or ``None`` (in this process). Until the sandbox layer is installed,
``"local"`` runs the shop in-process too. Other options: ``catalogue`` (``"small"``, ``"full"`` or a
folder of upstream files), ``index_cache`` (where the BM25 index is kept; default: the user's cache
directory), ``search_anywhere`` (accept ``search[...]`` on every page, like upstream's text env), and
``split_sizes`` (goals in test and dev; upstream: 500, 1000).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...env import Outcome, TextEnv
from . import SPEC
from .catalogue import data_availability
from .connect import connect
from .expert import next_action

__all__ = ["WebShopEnv", "data_availability"]


class ShopError(RuntimeError):
    """The shop server answered an error (an environment error: the harness records and retries it)."""


class WebShopEnv(TextEnv):
    """One shopping goal per instance; the shop is reached through :func:`connect`."""

    task_spec = SPEC

    def __init__(
        self,
        split: str = "test",
        max_turns: int | None = None,
        render_mode: str | None = None,
        *,
        sandbox: str | None = "local",
        catalogue: str | Path = "small",
        index_cache: str | Path | None = None,
        search_anywhere: bool = False,
        split_sizes: tuple[int, int] | None = None,
    ):
        super().__init__(split=split, max_turns=max_turns, render_mode=render_mode)
        if str(catalogue) not in ("small", "full"):
            catalogue = Path(catalogue).resolve()  # the server may run in another working directory
        kwargs: dict[str, Any] = {"catalogue": str(catalogue), "search_anywhere": bool(search_anywhere)}
        if index_cache is not None:
            kwargs["index_cache"] = str(Path(index_cache).resolve())
        if split_sizes is not None:
            kwargs["split_sizes"] = list(split_sizes)
        self._shop = connect(sandbox, kwargs)
        self.sandbox = sandbox
        self._sizes: dict[str, int] = self._call("info")["splits"]
        self._session: str | None = None
        self._reply: dict[str, Any] = {}
        self._plan: dict[str, Any] = {}

    # ------------------------------------------------------------------ the TextEnv hooks
    @property
    def num_instances(self) -> int:
        return self._sizes[self.split]

    def _start(self, index: int) -> tuple[str, str]:
        self._close_session()
        reply = self._call("create", split=self.split, index=index, max_turns=self.max_turns)
        self._session, self._plan, self._reply = reply["session"], reply["plan"], reply
        return reply["observation"], reply["goal"]

    def _act(self, action: str) -> Outcome:
        reply = self._call("step", session=self._require_session(), action=action)
        self._reply = reply
        extra: dict[str, Any] = {}
        if reply["done"]:
            extra["purchase"] = {
                "asin": reply["state"]["asin"],
                "options": reply["state"]["options"],
                "reward": reply["reward"],
                **(reply.get("reward_parts") or {}),
            }
        success = bool(reply["done"] and reply["reward"] == 1.0)
        progress = float(reply["reward"]) if reply["done"] else 0.0
        return Outcome(
            reply["observation"],
            reply["valid"],
            progress,
            success=success,
            failed=reply["done"] and not success,
            extra=extra,
        )

    def _admissible_actions(self) -> list[str] | None:
        return list(self._reply.get("admissible", []))

    def _native_state(self) -> Any:
        return self._call("snapshot", session=self._require_session())["state"]

    def _load_native_state(self, state: Any) -> None:
        self._reply = self._call("restore", session=self._require_session(), state=state)

    def expert_action(self) -> str:
        return next_action(self._plan, self._reply["state"])

    # ------------------------------------------------------------------ extras
    @property
    def expert_plan(self) -> dict[str, Any]:
        """The expert's plan for the current goal: target, query, options, reachable reward and why."""
        return dict(self._plan)

    def close(self) -> None:
        self._close_session()
        self._shop.close()
        super().close()

    def _close_session(self) -> None:
        """Forget the current session; telling the server is best effort (after a crash it is gone)."""
        session, self._session = self._session, None
        if session is not None:
            try:
                self._shop.call("close", session=session)
            except Exception:  # noqa: BLE001 - a crashed sandbox restarts on the next create
                pass

    def _require_session(self) -> str:
        if self._session is None:
            raise RuntimeError("call reset() first")
        return self._session

    def _call(self, op: str, **payload: Any) -> dict[str, Any]:
        reply = self._shop.call(op, **payload)
        if not reply.get("ok", True):
            raise ShopError(f"webshop service, op {op!r}: {reply.get('error')}")
        return reply
