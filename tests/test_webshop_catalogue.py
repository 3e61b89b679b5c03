"""WebShop's parts: reading the upstream files, goals and splits, the BM25 index, the reward function."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

pytest.importorskip("bm25s", reason="webshop needs its extra: pip install 'agentrm-bench[webshop]'")

from agentrm_bench import data  # noqa: E402
from agentrm_bench.envs.webshop import catalogue as cat_mod  # noqa: E402
from agentrm_bench.envs.webshop import search as search_mod  # noqa: E402
from agentrm_bench.envs.webshop.reward import (  # noqa: E402
    normalize_color,
    option_matches,
    pipeline_name,
    reward,
    type_reward,
)

from .conftest import data_file  # noqa: E402
from .test_webshop import FIXTURE, SIZES  # noqa: E402

RAW = json.loads((FIXTURE / "items_shuffle_1000.json").read_text())
HUMAN = json.loads((FIXTURE / "items_human_ins.json").read_text())


@pytest.fixture(scope="module")
def cat() -> cat_mod.Catalogue:
    return cat_mod.load(str(FIXTURE), SIZES)


# ------------------------------------------------------------------------------------- files
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$12.99", ((12.99,), "$12.99")),
        ("$10.99 - $15.49", ((10.99, 15.49), "$10.99 to $15.49")),
        ("$1,299.00", ((1299.0,), "$1299.0")),
        ("$5.00$6.00$7.00", ((5.0, 6.0), "$5.0 to $6.0")),
        ("", ((100.0,), "$100.0")),
        (None, ((100.0,), "$100.0")),
        ("$abc", ((100.0,), "$100.0")),
    ],
)
def test_pricing_text_is_read_as_upstream(text, expected):
    assert cat_mod.parse_pricing(text) == expected


def test_products_follow_upstreams_loader_rules(cat):
    assert len(RAW) == 36 and len(cat.products) == 33  # "nan", an 11+ character ASIN and a repeat are skipped
    assert "nan" not in cat.products and "B0TOOLONG001" not in cat.products
    assert cat.products["B0MUG00004"].name.startswith("Stoneware")  # the first of two rows with that ASIN
    shoe = cat.products["B0RUN00000"]
    assert shoe.options == {"color": ["black | white", "navy blue", "grey"], "size": ["7", "8", "9", "9.5", "10", "11"]}
    assert "style" not in cat.products["B0MUG00000"].options  # an option with no values is dropped
    assert cat.products["B0MUG00001"].bullets == ("Lead free stoneware, dishwasher safe",)  # a string: one bullet
    assert cat.products["B0MIC00003"].attributes == ()  # listed with no attributes
    assert cat_mod.parse_product({"asin": "B0X", "name": "n"}, {}).attributes == ("DUMMY_ATTR",)
    assert shoe.query == "running shoes" and shoe.price_tag == "$39.99"


def test_goals_are_the_human_instructions_in_upstreams_shuffled_order(cat):
    built = []  # upstream's build order: products in file order, then each product's instructions
    seen = set()
    for raw in RAW:
        asin = raw["asin"]
        if asin == "nan" or len(asin) > 10 or asin in seen:
            continue
        seen.add(asin)
        built += [(asin, i["instruction"]) for i in HUMAN.get(asin, []) if i["instruction_attributes"]]
    random.Random(233).shuffle(built)
    assert [(g.asin, g.instruction_text.split(", and price lower than")[0]) for g in cat.goals] == [
        (asin, text.strip(".")) for asin, text in built
    ]
    assert len(cat.goals) == 36  # 37 instructions, one without attributes


def test_price_limits_are_one_of_the_four_steps_above_the_price(cat):
    for goal in cat.goals:
        price = cat.prices[goal.asin]
        steps = [s for s in cat_mod.PRICE_STEPS if s > price][:4]
        assert goal.price_upper in steps and goal.price_upper > min(steps)
        assert goal.instruction_text.endswith(f", and price lower than {goal.price_upper:.2f} dollars")
    low, high = cat.products["B0HAIR0000"].pricing
    assert low <= cat.prices["B0HAIR0000"] <= high  # a range sells at a (seeded) price inside it
    again = cat_mod.build("again", RAW, json.loads((FIXTURE / "items_ins_v2_1000.json").read_text()), HUMAN)
    assert [g.instruction_text for g in again.goals] == [g.instruction_text for g in cat.goals]


def test_splits_and_eto_ids(cat):
    assert cat.split("test") == list(range(30)) and cat.split("dev") == list(range(30, 36))
    with pytest.raises(ValueError, match="no split 'train'"):
        cat.split("train")
    attrs = json.loads((FIXTURE / "items_ins_v2_1000.json").read_text())
    eto = cat_mod.build("full-like", RAW, attrs, HUMAN, test_ids=[5, 2, 33])
    assert eto.split("test") == [5, 2, 33]
    with pytest.raises(data.DataIntegrityError, match="outside"):
        cat_mod.build("bad", RAW, attrs, HUMAN, test_ids=[36])
    default = cat_mod.build("default", RAW, attrs, HUMAN)
    assert len(default.split("test")) == 36 and default.split("dev") == []  # 500 / 1000 when there are enough


def test_catalogue_locations_and_availability(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="must be 'small', 'full' or a folder"):
        cat_mod.files_of(str(tmp_path / "nowhere"))
    with pytest.raises(data.DataMissingError, match="items_shuffle"):
        cat_mod.files_of(str(tmp_path))
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    folder = tmp_path / "webshop" / "data"
    folder.mkdir(parents=True)
    for name in ("items_shuffle_1000.json", "items_ins_v2_1000.json", "items_human_ins.json"):
        shutil.copy(FIXTURE / name, folder / name)
    assert cat_mod.data_availability() == (True, "small catalogue ready")
    assert len(cat_mod.load("small", SIZES).goals) == 36  # "small" read through the data layer
    with pytest.raises(data.DataMissingError, match="agentrm-bench data fetch webshop/full"):
        cat_mod.files_of("full")
    (folder / "items_human_ins.json").write_text("{not json")
    cat_mod._load.cache_clear()
    with pytest.raises(data.DataIntegrityError, match="not valid JSON"):
        cat_mod.load("small", SIZES)
    cat_mod._load.cache_clear()


# ------------------------------------------------------------------------------------- search
def test_document_text_is_upstreams(cat):
    text = search_mod.document_text(cat.products["B0MIC00000"])
    assert text.startswith("cardioid usb microphone kit 1 for podcast and streaming, plug and play a plug and play")
    assert text.endswith("noise cancelling pop filter included color: black, white")
    two = search_mod.document_text(cat.products["B0MUG00000"])
    assert two.endswith(
        "lead free stoneware color: matte black, speckled white, sage, and size: 12 oz, 16 oz (pack of 4)"
    )


def test_analyzer_stems_and_drops_stop_words():
    analyzer = search_mod.Analyzer()
    assert analyzer("The Women's Running-Shoes, 6.76 fl oz and SOCKS") == [
        "women",
        "run",
        "shoe",
        "6.76",
        "fl",
        "oz",
        "sock",
    ]
    assert analyzer("the of and") == []


def test_bm25_ranking_ties_and_limits(tmp_path):
    asins = [f"B{i:09d}" for i in range(60)]
    texts = ["red mug"] * 55 + ["blue mug", "red red red mug", "teapot", "", "red"]
    index = search_mod.SearchIndex.build(asins, texts)
    hits = index.search("red")
    assert len(hits) == 50 and hits[0] == asins[56]  # most occurrences first
    assert hits[1:] == [asins[59]] + asins[:48]  # a shorter document next; equal scores in catalogue order
    assert index.search("teapot") == [asins[57]] and index.search("zebra") == [] and index.search("") == []
    assert index.search("mug", k=3) == asins[:3]


def test_index_is_built_once_and_cached(tmp_path, monkeypatch, cat):
    first = search_mod.open_index(cat.products, tmp_path)
    folders = [p for p in tmp_path.iterdir()]
    assert len(folders) == 1 and not [p for p in tmp_path.iterdir() if p.name.startswith(".build-")]

    def refuse(*args, **kwargs):
        raise AssertionError("rebuilt a cached index")

    monkeypatch.setattr(search_mod.SearchIndex, "build", refuse)
    again = search_mod.open_index(cat.products, tmp_path)
    assert again.search("running shoes") == first.search("running shoes")
    monkeypatch.undo()
    fewer = dict(list(cat.products.items())[:10])
    search_mod.open_index(fewer, tmp_path)
    assert len(list(tmp_path.iterdir())) == 2  # another catalogue, another index


# ------------------------------------------------------------------------------------- reward
def test_colour_normalisation_and_fuzzy_options():
    assert normalize_color("black | white") == "black"
    assert normalize_color("navy blue") == "blue"  # upstream's list order: "blue" comes before "navy"
    assert normalize_color("12 oz") == "12 oz"
    assert option_matches(["16 oz (pack of 4)"], ["16 oz pack of 4"]) == 1
    assert option_matches(["black | white", "9"], ["black", "9.5", "red"]) == 2  # "9" vs "9.5": token subset
    assert option_matches([], ["black"]) == 0


def test_type_reward_and_attribute_fallbacks(cat):
    goal = cat.goals[0]  # grey running shoes
    shoe, tea = cat.products["B0RUN00009"], cat.products["B0TEA00000"]
    assert type_reward(shoe, goal)["r_type"] == 1.0 and type_reward(tea, goal)["r_type"] == 0.0
    other_shoe = cat.products["B0RUN00001"]
    value, parts = reward(other_shoe, goal, cat.prices[other_shoe.asin], {"color": "red", "size": "10"})
    assert parts["query_match"] and parts["attribute_matches"] == 1 and parts["option_matches"] == 1
    assert value == pytest.approx(3 / 4)
    mic_goal = next(g for g in cat.goals if g.asin == "B0MIC00003")  # no listed attributes: found in the text
    mic = cat.products["B0MIC00003"]
    assert reward(mic, mic_goal, cat.prices[mic.asin], {})[0] == 1.0
    assert pipeline_name().startswith("en_core_web_sm")


# ------------------------------------------------------------------------------------- real data
def test_full_catalogue_goal_order_matches_webshops_goal_list():
    """With the 1.18M-product files present: goal i's instruction is line i of WebShop's human_goals.json."""
    data_file(cat_mod.FULL, cat_mod.FULL_FILES["products"])
    texts = json.loads(data_file("webshop", cat_mod.HUMAN_GOAL_TEXTS).read_text())
    full = cat_mod.load("full")
    assert len(full.goals) == len(texts) == 12087 and len(full.split("test")) == 200
    ours = [g.instruction_text.split(", and price lower than")[0] for g in full.goals]
    assert ours == [t.strip(".") for t in texts]


def test_small_catalogue_files_when_present():
    products = json.loads(data_file("webshop", cat_mod.SMALL_FILES["products"]).read_text())
    data_file("webshop", cat_mod.SMALL_FILES["instructions"])
    small = cat_mod.load("small")
    assert len(products) == 1000 and len(small.products) <= 1000
    assert len(small.split("test")) == 500 and len(small.split("dev")) == 1000
    staged = Path(data_file("webshop", "baseline_models_data/human_goals.json"))
    assert staged.is_file()
