"""WebShop's catalogue, read from the upstream files: products, their prices, the human goals, the splits.

Upstream WebShop (princeton-nlp/WebShop, MIT) ships its shop as three JSON files, which this module reads
in their own format, applying the rules of upstream's loader (``web_agent_site/engine``) so that a goal
index means the same instruction here as there:

- the product file (``items_shuffle*.json``, a list of scraped products): a product is skipped when its
  ASIN is ``"nan"``, longer than 10 characters or seen before; option names and values are lowercased
  and a ``/`` in a value becomes `` | ``; ``pricing`` text gives one price or a range (the first two
  amounts), or $100.0 when absent; the ``reviews`` file upstream once read is not part of the data, so
  every product shows ``Rating: N.A.`` and no reviews, as in upstream's released code;
- the attribute file (``items_ins_v2*.json``: ASIN -> attributes), ``DUMMY_ATTR`` when an ASIN has none;
- the human instructions (``items_human_ins.json``: ASIN -> list of instructions). Every instruction with
  at least one attribute is a goal, in product order then instruction order; the list is shuffled with
  ``random.seed(233)``. A goal's price limit is drawn from the four multiples of $10 above the product's
  price (the larger of two sampled), its text gains ", and price lower than X dollars".

One deliberate difference: upstream draws product prices (inside a price range) and price limits from
Python's unseeded global generator, so its goals' price limits change from one launch to the next. Here
they come from ``random.Random(PRICE_SEED)``, so that instance k is the same instruction on every
machine. The goal *order* does not depend on this (the shuffle is seeded upstream too).

Catalogues: ``small`` (default, the 1,000-product set; test = goals 0..499, dev = 500..1499, upstream's
split convention) and ``full`` (1.18M products; test = ETO's 200 goal ids, as AgentRM evaluates), or a
folder holding the three files in the small layout (test fixtures, other shops).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from ... import data
from . import upstream

TASK = "webshop"
FULL = "webshop/full"  # the data-layer entry of the 1.18M-product files (fetched on their own: ~5 GB)
SMALL_FILES = {
    "products": "data/items_shuffle_1000.json",
    "attributes": "data/items_ins_v2_1000.json",
    "instructions": "data/items_human_ins.json",
}
FULL_FILES = {"products": "data/items_shuffle.json", "attributes": "data/items_ins_v2.json"}
ETO_TEST_IDS = "splits/eto/test_indices.json"
HUMAN_GOAL_TEXTS = "baseline_models_data/human_goals.json"  # the full list's instructions, in goal order

SHUFFLE_SEED = 233  # upstream's seed for the goal order
PRICE_SEED = 0  # ours: upstream leaves product prices and price limits to the unseeded global generator
PRICE_STEPS = tuple(10.0 * i for i in range(1, 100))  # the candidate price limits upstream draws from
NO_PRICE_LIMIT = 1_000_000.0
DEFAULT_PRICE = 100.0
SPLIT_SIZES = (500, 1000)  # upstream: test = goals [0, 500), dev (its "eval") = [500, 1500)


@dataclass(frozen=True, slots=True)
class Product:
    """One product as the shop shows and scores it (upstream's cleaned product record)."""

    asin: str
    name: str  # the title; also what the product-type reward parses
    description: str
    bullets: tuple[str, ...]  # "Features" (upstream: BulletPoints)
    pricing: tuple[float, ...]  # one price, or the two ends of a range
    price_tag: str  # as displayed: "$12.99" or "$10.0 to $15.5"
    options: dict[str, list[str]]  # option name -> values, in page order
    attributes: tuple[str, ...]
    category: str
    query: str
    product_category: str


@dataclass(frozen=True, slots=True)
class Goal:
    """One shopping instruction with what the reward compares the purchase against."""

    asin: str  # the product the instruction was written for
    instruction_text: str  # what the agent reads (with the price clause)
    attributes: tuple[str, ...]
    goal_options: tuple[str, ...]
    price_upper: float
    name: str
    query: str
    category: str
    product_category: str


@dataclass
class Catalogue:
    """Products, their (seeded) prices, the goals in upstream order and the index lists of each split."""

    name: str
    products: dict[str, Product]
    prices: dict[str, float]
    goals: list[Goal]
    splits: dict[str, list[int]]

    def split(self, split: str) -> list[int]:
        try:
            return self.splits[split]
        except KeyError:
            known = sorted(self.splits)
            raise ValueError(f"webshop catalogue {self.name!r} has no split {split!r}; it has {known}") from None


# --------------------------------------------------------------------------------------- parsing
def parse_pricing(text: Any) -> tuple[tuple[float, ...], str]:
    """Upstream's reading of a ``pricing`` string: the amounts after each ``$`` (at most two)."""
    amounts: list[float] = []
    if isinstance(text, str):
        for part in text.split("$")[1:]:
            digits = re.sub(r"[^\d.]", "", part)
            try:
                amounts.append(float(Decimal(digits)))
            except InvalidOperation:
                continue  # upstream would crash on such a product; it simply shows no amount for that part
    if not amounts:
        return (DEFAULT_PRICE,), f"${DEFAULT_PRICE}"
    if len(amounts) == 1:
        return (amounts[0],), f"${amounts[0]}"
    return (amounts[0], amounts[1]), f"${amounts[0]} to ${amounts[1]}"


def parse_options(raw: Any) -> dict[str, list[str]]:
    options: dict[str, list[str]] = {}
    for name, contents in (raw or {}).items():
        if contents is None:
            continue
        options[str(name).lower()] = [str(c["value"]).strip().replace("/", " | ").lower() for c in contents]
    return options


def parse_product(raw: dict[str, Any], attributes: dict[str, Any]) -> Product:
    asin = raw["asin"]
    bullets = raw.get("small_description")
    bullets = bullets if isinstance(bullets, list) else [bullets]
    pricing, tag = parse_pricing(raw.get("pricing"))
    entry = attributes.get(asin) or {}
    return Product(
        asin=asin,
        name=str(raw["name"]),
        description=str(raw.get("full_description") or ""),
        bullets=tuple(str(b) for b in bullets if b is not None),
        pricing=pricing,
        price_tag=tag,
        options=parse_options(raw.get("customization_options")),
        attributes=tuple(entry["attributes"]) if "attributes" in entry else ("DUMMY_ATTR",),
        category=str(raw.get("category") or ""),
        query=str(raw.get("query") or "").lower().strip(),
        product_category=str(raw.get("product_category") or ""),
    )


def parse_products(raw_products: Iterable[dict[str, Any]], attributes: dict[str, Any]) -> dict[str, Product]:
    """Upstream's product filter: skip ``nan`` / over-long / repeated ASINs; keep file order."""
    products: dict[str, Product] = {}
    for raw in raw_products:
        asin = raw.get("asin")
        if not isinstance(asin, str) or asin == "nan" or len(asin) > 10 or asin in products:
            continue
        products[asin] = parse_product(raw, attributes)
    return products


def product_prices(products: dict[str, Product], rng: random.Random) -> dict[str, float]:
    """The price each product sells at: its price, or a uniform draw inside its range."""
    return {
        asin: p.pricing[0] if len(p.pricing) == 1 else rng.uniform(p.pricing[0], p.pricing[1])
        for asin, p in products.items()
    }


def price_limit(price: float, rng: random.Random) -> tuple[float, str]:
    steps = [step for step in PRICE_STEPS if step > price][:4]
    if len(steps) < 2:
        return NO_PRICE_LIMIT, ""
    upper = max(rng.sample(steps, 2))
    return upper, f", and price lower than {upper:.2f} dollars"


def human_goals(
    products: dict[str, Product], prices: dict[str, float], instructions: dict[str, Any], rng: random.Random
) -> list[Goal]:
    """Every human instruction with attributes, in product order then instruction order, then shuffled."""
    goals: list[Goal] = []
    for asin, product in products.items():
        for instruction in instructions.get(asin) or ():
            attributes = instruction.get("instruction_attributes") or []
            if not attributes:
                continue  # upstream skips instructions without attributes
            upper, clause = price_limit(prices[asin], rng)
            goals.append(
                Goal(
                    asin=asin,
                    instruction_text=str(instruction["instruction"]).strip(".") + clause,
                    attributes=tuple(attributes),
                    goal_options=tuple(instruction.get("instruction_options") or ()),
                    price_upper=upper,
                    name=product.name,
                    query=product.query,
                    category=product.category,
                    product_category=product.product_category,
                )
            )
    random.Random(SHUFFLE_SEED).shuffle(goals)
    return goals


def build(
    name: str,
    raw_products: list[dict[str, Any]],
    attributes: dict[str, Any],
    instructions: dict[str, Any],
    test_ids: list[int] | None = None,
    split_sizes: tuple[int, int] = SPLIT_SIZES,
) -> Catalogue:
    """A catalogue from the parsed upstream files; ``test_ids`` replaces the first-N test split (ETO's ids)."""
    products = parse_products(raw_products, attributes)
    rng = random.Random(PRICE_SEED)
    prices = product_prices(products, rng)
    goals = human_goals(products, prices, instructions, rng)
    n_test, n_dev = split_sizes
    test = list(range(min(n_test, len(goals)))) if test_ids is None else [int(i) for i in test_ids]
    bad = [i for i in test if not 0 <= i < len(goals)]
    if bad:
        raise data.DataIntegrityError(f"webshop {name}: test goal ids {bad[:5]} are outside 0..{len(goals) - 1}")
    splits = {"test": test, "dev": list(range(n_test, min(n_test + n_dev, len(goals))))}
    return Catalogue(name, products, prices, goals, splits)


# --------------------------------------------------------------------------------------- files
def files_of(catalogue: str) -> dict[str, Path]:
    """The files a catalogue reads; :class:`~agentrm_bench.data.DataMissingError` names the fetch command."""
    if catalogue == "small":
        return {key: data.path(upstream.FILES, rel) for key, rel in SMALL_FILES.items()}
    if catalogue == "full":
        paths = {key: data.path(upstream.FULL, rel) for key, rel in FULL_FILES.items()}
        paths["instructions"] = data.path(upstream.FILES, SMALL_FILES["instructions"])
        paths["test_ids"] = data.path(upstream.FILES, ETO_TEST_IDS)
        return paths
    folder = Path(catalogue)
    if not folder.is_dir():
        raise ValueError(f"webshop catalogue must be 'small', 'full' or a folder of upstream files, got {catalogue!r}")
    paths = {
        "products": _first(folder, ("items_shuffle_1000.json", "items_shuffle.json")),
        "attributes": _first(folder, ("items_ins_v2_1000.json", "items_ins_v2.json")),
        "instructions": _first(folder, ("items_human_ins.json",)),
    }
    return paths


def _first(folder: Path, names: tuple[str, ...]) -> Path:
    for name in names:
        if (folder / name).is_file():
            return folder / name
    raise data.DataMissingError(f"webshop: {folder} holds none of {', '.join(names)}")


def _read_json(file: Path) -> Any:
    try:
        with open(file, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as exc:
        raise data.DataIntegrityError(f"webshop: {file} is not valid JSON ({exc})") from None


@lru_cache(maxsize=4)
def _load(catalogue: str, split_sizes: tuple[int, int], root: str) -> Catalogue:
    del root  # part of the cache key only: another data root is another catalogue
    paths = files_of(catalogue)
    test_ids = _read_json(paths["test_ids"]) if "test_ids" in paths else None
    name = catalogue if catalogue in ("small", "full") else Path(catalogue).name
    return build(
        name,
        _read_json(paths["products"]),
        _read_json(paths["attributes"]),
        _read_json(paths["instructions"]),
        test_ids=test_ids,
        split_sizes=split_sizes,
    )


def load(catalogue: str = "small", split_sizes: tuple[int, int] | None = None) -> Catalogue:
    """The catalogue, read once per process (the service and every env in a worker share it read-only)."""
    return _load(str(catalogue), tuple(split_sizes or SPLIT_SIZES), str(data.data_root()))


def data_availability(root: Path | None = None) -> tuple[bool, str]:
    """(the default ``small`` catalogue can be built here, note): the task table's ``data_check``."""
    folder = data.folder(upstream.FILES, root)
    absent = [rel for rel in SMALL_FILES.values() if not (folder / rel).is_file()]
    if absent:
        return False, f"small catalogue: {', '.join(absent)} missing (agentrm-bench data fetch {TASK})"
    full_folder = data.folder(upstream.FULL, root)
    full = all((full_folder / rel).is_file() for rel in FULL_FILES.values())
    return True, "small catalogue ready" + ("; full catalogue ready" if full else "")
