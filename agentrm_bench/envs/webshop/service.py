"""The WebShop server: one shop (catalogue + search index), many independent shopping sessions.

This is what the sandbox runs: a :class:`~agentrm_bench.sandbox.service.Service`, so one JSON message in
gives one out (errors too, by the base's one rule) and the same object serves in-process, from a local
subprocess or from a container (:class:`~agentrm_bench.envs.served.ServedEnv`). Ops (every one but
``info`` names a ``session``):

- ``info`` -> split sizes and catalogue facts;
- ``create {split, index, max_turns}`` -> a new session on goal ``index`` of ``split``, on its search page;
- ``reset`` -> back to the search page; ``step {action}`` -> the next page;
- ``snapshot`` -> the session's state (JSON); ``restore {state}`` -> continue from it; ``close``.

Replies carry ``observation``, ``admissible`` (the actions the page accepts), ``state`` (the public page
state the expert reads) and, from ``step``, ``valid``, ``done`` and ``reward``. A session's state is a
small JSON dict; pages are re-rendered from it, so sessions share nothing but the read-only catalogue
and two sessions on the same goal never see each other's clicks.

Action rules (upstream's text env): ``search[<query>]`` on the search page (anywhere if the service was
made with ``search_anywhere=True``, as upstream's text env allows); ``click[<button>]`` on a clickable of
the current page, case-insensitive; anything else changes nothing and is reported invalid. ``Buy Now``
ends the episode with the reward of :mod:`.reward`.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from ...sandbox.service import Service, op
from . import catalogue as catalogue_mod
from . import pages
from .expert import plan_for
from .reward import reward as score_purchase
from .search import SearchIndex, open_index

SEARCH_HINT = "search[<query>]"
PAGES = ("search", "results", "item", "sub", "done")
_ACTION = re.compile(r"(.+)\[(.+)\]", re.DOTALL)  # upstream's syntax: the name is all before the last "[...]"


def index_for(catalogue: str, split_sizes: tuple[int, int] | None, cache_dir: str | None) -> SearchIndex:
    """The catalogue's search index, opened once per process (built into ``cache_dir`` the first time)."""
    return _index_for(catalogue, tuple(split_sizes or catalogue_mod.SPLIT_SIZES), cache_dir)


@lru_cache(maxsize=4)
def _index_for(catalogue: str, split_sizes: tuple[int, int], cache_dir: str | None) -> SearchIndex:
    return open_index(catalogue_mod.load(catalogue, split_sizes).products, cache_dir)


class WebShopService(Service[dict[str, Any]]):
    """Shopping sessions over one catalogue; construct with JSON-able kwargs (the sandbox passes them).

    A session's state is the dict of :func:`_fresh_state`; the ops are those of the module docstring.
    """

    name = "webshop"

    def __init__(
        self,
        catalogue: str = "small",
        index_cache: str | None = None,
        search_anywhere: bool = False,
        split_sizes: list[int] | tuple[int, int] | None = None,
    ):
        super().__init__()
        sizes = tuple(split_sizes) if split_sizes is not None else catalogue_mod.SPLIT_SIZES
        if len(sizes) != 2 or any(not isinstance(n, int) or n < 0 for n in sizes):
            raise ValueError(f"split_sizes must be two non-negative ints (test, dev), got {split_sizes!r}")
        self.catalogue = catalogue_mod.load(str(catalogue), sizes)
        self.index = index_for(str(catalogue), sizes, str(index_cache) if index_cache else None)
        self.search_anywhere = bool(search_anywhere)

    # ------------------------------------------------------------------------------ ops
    @op
    def info(self) -> dict[str, Any]:
        return {
            "catalogue": self.catalogue.name,
            "products": len(self.catalogue.products),
            "goals": len(self.catalogue.goals),
            "splits": {name: len(ids) for name, ids in self.catalogue.splits.items()},
        }

    @op
    def create(self, split: str, index: Any, max_turns: Any = None) -> dict[str, Any]:
        split = str(split)
        ids = self.catalogue.split(split)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(ids):
            raise ValueError(f"index must be an int in [0, {len(ids)}) for split {split!r}, got {index!r}")
        goal_id = ids[index]
        goal = self.catalogue.goals[goal_id]
        session = self.open_session(_fresh_state(goal_id))
        plan = plan_for(self.catalogue, self.index, goal, int(max_turns) if max_turns else None)
        return {
            "session": session,
            "goal": goal.instruction_text,
            "goal_id": goal_id,
            "plan": plan,
            **self._view(session),
        }

    @op
    def reset(self, session: str) -> dict[str, Any]:
        self.replace_session(session, _fresh_state(self.session(session)["goal"]))
        return self._view(session)

    @op
    def step(self, session: str, action: str) -> dict[str, Any]:
        state = self.session(session)
        valid = False if state["done"] else self._apply(state, str(action))
        return {"valid": valid, "done": state["done"], "reward": state["reward"], **self._view(session)}

    @op(reply="state")
    def snapshot(self, session: str) -> dict[str, Any]:
        return copy.deepcopy(self.session(session))

    @op
    def restore(self, session: str, state: dict[str, Any]) -> dict[str, Any]:
        self.session(session)
        if (
            not isinstance(state, dict)
            or set(state) != set(_fresh_state(0))
            or state["page"] not in PAGES
            or not isinstance(state["goal"], int)
            or not 0 <= state["goal"] < len(self.catalogue.goals)
            or (state["asin"] is not None and state["asin"] not in self.catalogue.products)
        ):
            raise ValueError("not a webshop session state")
        self.replace_session(session, copy.deepcopy(state))
        return self._view(session)

    # ------------------------------------------------------------------------------ the shop
    def _apply(self, state: dict[str, Any], action: str) -> bool:
        match = _ACTION.fullmatch(action.strip())
        if match is None or match.group(1) not in ("search", "click") or not match.group(2).strip():
            return False
        verb, argument = match.groups()
        page = self._page(state)
        if verb == "search":
            if not (page.has_search_bar or self.search_anywhere):
                return False
            state.update(page="results", keywords=argument.lower(), page_num=1, asin=None, options={}, sub=None)
            state["searches"] += 1
            return True
        key = argument.lower()
        target = page.clickables().get(key)
        if target is None or key == "search":
            return False
        self._click(state, target, key)
        return True

    def _click(self, state: dict[str, Any], target: str, key: str) -> None:
        where = state["page"]
        if target == pages.BUY_NOW:
            goal = self.catalogue.goals[state["goal"]]
            product = self.catalogue.products[state["asin"]]
            value, parts = score_purchase(product, goal, self.catalogue.prices[product.asin], state["options"])
            state.update(page="done", done=True, reward=value, reward_parts=parts)
        elif target == pages.BACK_TO_SEARCH:
            state.update(_fresh_state(state["goal"]), searches=state["searches"])
        elif target == pages.NEXT_PAGE:
            state["page_num"] += 1
        elif target == pages.PREV_PAGE and where == "results":
            state["page_num"] -= 1
        elif target == pages.PREV_PAGE and where == "sub":
            state.update(page="item", sub=None)
        elif target == pages.PREV_PAGE:  # from an item page: back to its results page, options cleared
            state.update(page="results", asin=None, options={})
        elif target in pages.SUB_PAGES:
            state.update(page="sub", sub=target)
        elif target.startswith("option:"):
            state["options"][target.removeprefix("option:")] = key
        else:  # a product link on a results page
            state.update(page="item", asin=target.upper(), options={})
            if state["asin"] not in state["visited"]:
                state["visited"].append(state["asin"])

    def _results(self, keywords: str) -> list[str]:
        return self.index.cached_search(keywords)

    def _page(self, state: dict[str, Any]) -> pages.Page:
        goal = self.catalogue.goals[state["goal"]]
        text = goal.instruction_text
        where = state["page"]
        if where == "search":
            return pages.search_page(text)
        if where == "results":
            hits = self._results(state["keywords"])
            start = (state["page_num"] - 1) * pages.PAGE_SIZE
            shown = [self.catalogue.products[a] for a in hits[start : start + pages.PAGE_SIZE]]
            return pages.results_page(text, state["page_num"], len(hits), shown)
        product = self.catalogue.products[state["asin"]] if state["asin"] else None
        if where == "item" and product is not None:
            return pages.item_page(text, product)
        if where == "sub" and product is not None:
            return pages.sub_page(text, product, state["sub"])
        return pages.done_page(state["reward"])

    def _view(self, session: str) -> dict[str, Any]:
        state = self.session(session)
        page = self._page(state)
        admissible = [] if state["done"] else [f"click[{b}]" for b in page.buttons]
        if not state["done"] and (page.has_search_bar or self.search_anywhere):
            admissible.insert(0, SEARCH_HINT)
        public = {k: copy.deepcopy(v) for k, v in state.items() if k != "reward_parts"}
        if state["page"] == "results":
            hits = self._results(state["keywords"])
            public["total"] = len(hits)
            start = (state["page_num"] - 1) * pages.PAGE_SIZE
            public["shown"] = hits[start : start + pages.PAGE_SIZE]
        reply = {"observation": page.observation, "admissible": admissible, "state": public}
        if state["done"]:
            reply["reward_parts"] = state["reward_parts"]
        return reply


def _fresh_state(goal_id: int) -> dict[str, Any]:
    return {
        "goal": goal_id,
        "page": "search",
        "keywords": None,
        "page_num": 1,
        "asin": None,
        "options": {},
        "sub": None,
        "visited": [],
        "searches": 0,
        "done": False,
        "reward": 0.0,
        "reward_parts": None,
    }


def make_service(**kwargs: Any) -> WebShopService:
    """The sandbox's factory (``agentrm_bench.envs.webshop.service:make_service``)."""
    if kwargs.get("index_cache") is not None:
        kwargs["index_cache"] = str(Path(kwargs["index_cache"]))
    return WebShopService(**kwargs)
