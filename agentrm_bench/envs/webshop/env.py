"""WebShop (held-in task): buy the product an instruction describes in a simulated web shop.

The shop (princeton-nlp/WebShop) is a server: :class:`~.service.WebShopService` over a catalogue
(:mod:`.catalogue`), a BM25 search engine (:mod:`.search`) and upstream's reward (:mod:`.reward`).
Observations are upstream's text mode (:mod:`.pages`); actions are ``search[<query>]`` on the search
page and ``click[<button>]`` on what the page shows. Buying ends the episode: progress = the purchase
reward (the paper's metric is its average x 100), success = reward 1.0.

``sandbox`` chooses where the shop runs (:class:`~agentrm_bench.envs.served.ServedEnv`): ``"local"``
(default; a subprocess), ``"docker"`` (a container: the index is built on the host first, since the
container's filesystem is read-only, and its folder mounted read-only with any catalogue folder outside
the data root; the image is the ``docker/`` folder of this package plus the task's pip extra) or
``None`` (this process). Other options: ``catalogue`` (``"small"``, ``"full"`` or a folder of upstream
files), ``index_cache`` (where the BM25 index is kept; default: the user's cache directory),
``search_anywhere`` (accept ``search[...]`` on every page, like upstream's text env), and
``split_sizes`` (goals in test and dev; upstream: 500, 1000).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...env import Outcome
from ...sandbox.images import TaskImage
from ..served import ServedEnv
from ..service_pool import Placement
from . import SPEC
from .catalogue import data_availability, files_of
from .expert import next_action
from .search import default_cache_dir
from .service import index_for

__all__ = ["WebShopEnv", "data_availability"]

START_TIMEOUT = {"small": 300.0, "full": 3600.0}  # loading the 1.18M-product file takes minutes


class WebShopEnv(ServedEnv):
    """One shopping goal per instance; ``split``, ``max_turns``, ``render_mode`` and ``sandbox`` as
    :class:`~agentrm_bench.envs.served.ServedEnv`, the shop's options as the module says."""

    task_spec = SPEC
    service_spec = "agentrm_bench.envs.webshop.service:make_service"

    def __init__(
        self,
        *args: Any,
        catalogue: str | Path = "small",
        index_cache: str | Path | None = None,
        search_anywhere: bool = False,
        split_sizes: tuple[int, int] | None = None,
        **options: Any,
    ):
        super().__init__(*args, **options)
        if str(catalogue) not in ("small", "full"):
            catalogue = Path(catalogue).resolve()  # the server may run in another working directory
        files_of(str(catalogue))  # absent data: DataMissingError here, not in a server
        self.service_kwargs = {"catalogue": str(catalogue), "search_anywhere": bool(search_anywhere)}
        if index_cache is not None:
            self.service_kwargs["index_cache"] = str(Path(index_cache).resolve())
        if split_sizes is not None:
            self.service_kwargs["split_sizes"] = list(split_sizes)
        self._sizes: dict[str, int] = self._call("info")["splits"]
        self._reply: dict[str, Any] = {}
        self._plan: dict[str, Any] = {}

    def _placement(self, kwargs: dict[str, Any]) -> tuple[dict[str, Any], Placement]:
        catalogue = str(kwargs.get("catalogue", "small"))
        placement = Placement(start_timeout=START_TIMEOUT.get(catalogue, START_TIMEOUT["small"]))
        if self.sandbox != "docker":
            return kwargs, placement
        cache = Path(kwargs.get("index_cache") or default_cache_dir()).resolve()
        kwargs["index_cache"] = str(cache)
        sizes = kwargs.get("split_sizes")
        index_for(catalogue, tuple(sizes) if sizes else None, str(cache))  # build on the host, where it can write
        _readable_by_all(cache)  # the container's unprivileged user reads the index through a read-only mount
        mounts = (str(cache), *([str(Path(catalogue).resolve())] if catalogue not in ("small", "full") else []))
        image = TaskImage(str(SPEC.image), (SPEC.extra,) if SPEC.extra else ())
        return kwargs, Placement(start_timeout=placement.start_timeout, image=image, mounts=mounts)

    # ------------------------------------------------------------------ the TextEnv hooks
    @property
    def num_instances(self) -> int:
        return self._sizes[self.split]

    def _start(self, index: int) -> tuple[str, str]:
        reply = self._open_session(split=self.split, index=index, max_turns=self.max_turns)
        self._plan, self._reply = reply["plan"], reply
        return reply["observation"], reply["goal"]

    def _act(self, action: str) -> Outcome:
        reply = self._session_call("step", action=action)
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
        return self._session_call("snapshot")["state"]

    def _load_native_state(self, state: Any) -> None:
        self._reply = self._session_call("restore", state=state)

    def expert_action(self) -> str:
        return next_action(self._plan, self._reply["state"])

    # ------------------------------------------------------------------ extras
    @property
    def expert_plan(self) -> dict[str, Any]:
        """The expert's plan for the current goal: target, query, options, reachable reward and why."""
        return dict(self._plan)


def _readable_by_all(folder: Path) -> None:
    """Let other users read ``folder``'s tree (private temp folders are made 0700; the index holds no secret)."""
    folder.chmod(folder.stat().st_mode | 0o755)
    for path in folder.rglob("*"):
        path.chmod(path.stat().st_mode | (0o755 if path.is_dir() else 0o644))
