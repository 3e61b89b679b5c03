"""WebShop's expert: from each goal's target product, search, page to it, choose the options, buy.

The plan is made on the server side (:func:`plan_for`), where the catalogue and index are: which query
to type, on which result the target appears, and which option values to click. The options maximise the
upstream option reward (each goal option counts once if any chosen value matches it); among equally good
choices the fewest clicks win. The query is the first of (the product's own scraping query, its title,
the goal text) that shows the target within the 50 results *and* leaves enough turns to buy it, so the
expert searches like a shopper and pages when the target is not on page 1.

``max_reward`` is the best reward reachable by buying the target (its best options); ``shortfall`` says
why it is below 1.0 when it is (a goal attribute the product does not have, a goal option none of its
values matches, a product-type factor below 1). :func:`next_action` turns the plan and the session's
public page state into the next action; it is what ``env.expert_action()`` returns.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import TYPE_CHECKING, Any

from . import pages
from .reward import attribute_matches, option_matches, reward, type_reward

if TYPE_CHECKING:
    from .catalogue import Catalogue, Goal, Product
    from .search import SearchIndex

MAX_COMBINATIONS = 20_000


def best_options(product: Product, goal_options: tuple[str, ...]) -> dict[str, str]:
    """Option name -> value to click, maximising matched goal options, then minimising clicks."""
    owner = {v: name for name, values in product.options.items() for v in values}  # the click sets this name
    candidates: list[list[tuple[str, str, frozenset[int]] | None]] = []
    for name, values in product.options.items():
        seen: dict[frozenset[int], tuple[str, str, frozenset[int]]] = {}
        for value in values:
            if owner[value] != name:
                continue
            hits = frozenset(i for i, g in enumerate(goal_options) if option_matches([value], [g]))
            if hits and hits not in seen:
                seen[hits] = (name, value, hits)
        candidates.append([None, *seen.values()])
    size = 1
    for group in candidates:
        size *= len(group)
    best: tuple[int, int] = (-1, 0)
    chosen: list[tuple[str, str, frozenset[int]]] = []
    combos = itertools.product(*candidates) if size <= MAX_COMBINATIONS else [_greedy(candidates)]
    for combo in combos:
        picked = [c for c in combo if c is not None]
        covered = len(frozenset().union(*(c[2] for c in picked))) if picked else 0
        key = (covered, -len(picked))
        if key > best:
            best, chosen = key, picked
    return {name: value for name, value, _ in chosen}


def _greedy(candidates: list[list[Any]]) -> tuple[Any, ...]:
    covered: set[int] = set()
    combo = []
    for group in candidates:
        pick = max(group, key=lambda c: len(c[2] - covered) if c else 0)
        if pick is not None and pick[2] - covered:
            covered |= pick[2]
            combo.append(pick)
        else:
            combo.append(None)
    return tuple(combo)


def shortfall(product: Product, goal: Goal, options: dict[str, str], price: float) -> list[str]:
    """Why buying ``product`` with ``options`` scores below 1.0 (empty when it scores 1.0)."""
    reasons = []
    for attribute in goal.attributes:
        if attribute_matches(product, dataclasses.replace(goal, attributes=(attribute,))) == 0:
            reasons.append(f"goal attribute {attribute!r} is not among the product's attributes or text")
    for wanted in goal.goal_options:
        if option_matches(list(options.values()), [wanted]) == 0:
            reasons.append(f"goal option {wanted!r} matches none of the product's option values")
    if not price <= goal.price_upper:
        reasons.append(f"price {price:.2f} is above the limit {goal.price_upper:.2f}")
    kind = type_reward(product, goal)
    if kind["r_type"] < 1.0:
        reasons.append(f"product-type factor {kind['r_type']} (title noun overlap {kind['title_score']:.2f})")
    return reasons


def plan_for(catalogue: Catalogue, index: SearchIndex, goal: Goal, max_turns: int | None = None) -> dict[str, Any]:
    """The expert's plan for ``goal`` (JSON): query, rank of the target, options, and the reward it reaches."""
    product = catalogue.products[goal.asin]
    options = best_options(product, goal.goal_options)
    price = catalogue.prices[product.asin]
    value, _ = reward(product, goal, price, options)
    queries = list(dict.fromkeys(q for q in (goal.query, product.name.lower(), goal.instruction_text.lower()) if q))
    found: list[tuple[str, int | None, int | None]] = []
    for query in queries:
        hits = index.cached_search(query)
        if product.asin in hits:
            rank = hits.index(product.asin)
            steps = 1 + rank // pages.PAGE_SIZE + 1 + len(options) + 1  # search, Next >s, product, options, buy
            found.append((query, rank, steps))
            if max_turns is None or steps <= max_turns:
                break
    # the first query that fits the turn budget, else the shortest path found, else the title (not findable)
    fitting = [f for f in found if max_turns is None or (f[2] or 0) <= max_turns]
    query, rank, steps = (fitting or sorted(found, key=lambda f: f[2] or 0) or [(product.name.lower(), None, None)])[0]
    return {
        "asin": product.asin,
        "query": query,
        "rank": rank,
        "steps": steps,
        "options": options,
        "max_reward": value,
        "shortfall": shortfall(product, goal, options, price),
    }


def next_action(plan: dict[str, Any], state: dict[str, Any]) -> str:
    """The expert's next action on the page described by ``state`` (the service's public state)."""
    asin = plan["asin"]
    where = state["page"]
    if state.get("done"):
        return f"click[{pages.BUY_NOW}]"
    if where == "search":
        return f"search[{plan['query']}]"
    if where == "sub":
        return f"click[{pages.PREV_PAGE}]"
    if where == "item":
        if state["asin"] != asin:
            return f"click[{pages.PREV_PAGE}]"
        for name, value in plan["options"].items():
            if state["options"].get(name) != value:
                return f"click[{value}]"
        return f"click[{pages.BUY_NOW}]"
    # results page
    if state["keywords"] != plan["query"].lower() or plan["rank"] is None:
        return f"click[{pages.BACK_TO_SEARCH}]"
    if asin in state.get("shown", ()):
        return f"click[{asin}]"
    target_page = plan["rank"] // pages.PAGE_SIZE + 1
    if state["page_num"] < target_page:
        return f"click[{pages.NEXT_PAGE}]"
    return f"click[{pages.PREV_PAGE}]" if state["page_num"] > 1 else f"click[{pages.BACK_TO_SEARCH}]"
