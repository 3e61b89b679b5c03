"""WebShop environment: pages, action rules, episodes, the generic env checks and the expert.

Runs on the synthetic catalogue in tests/fixtures/webshop (upstream's file format, invented products);
the real ``small`` catalogue is exercised at the end when its files are present.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

pytest.importorskip("bm25s", reason="webshop needs its extra: pip install 'agentrm-bench[webshop]'")

import agentrm_bench  # noqa: E402,F401  (registers the ids)
from agentrm_bench import data, tasks  # noqa: E402
from agentrm_bench.env import EPISODE_OVER  # noqa: E402
from agentrm_bench.envs.webshop import catalogue as webshop_catalogue  # noqa: E402
from agentrm_bench.envs.webshop.env import WebShopEnv  # noqa: E402
from agentrm_bench.envs.webshop.reward import reward  # noqa: E402

from .conftest import data_file  # noqa: E402
from .test_contract import fuzz_actions  # noqa: E402

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "webshop"
SIZES = (30, 6)  # the fixture's 36 goals: test = 0..29, dev = 30..35
REQUIRED_INFO = {"task", "index", "goal", "progress", "success", "valid_action"}


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("webshop-index")


@pytest.fixture
def make(index_dir):
    def factory(**kwargs) -> WebShopEnv:
        options = {"sandbox": None, "catalogue": FIXTURE, "index_cache": index_dir, "split_sizes": SIZES}
        return WebShopEnv(**(options | kwargs))

    return factory


def run_expert(env: WebShopEnv, index: int) -> tuple[float, list[str], dict]:
    env.reset(options={"index": index})
    actions, terminated, truncated, info, total = [], False, False, {}, 0.0
    while not (terminated or truncated):
        actions.append(env.expert_action())
        _, step_reward, terminated, truncated, info = env.step(actions[-1])
        total += step_reward
    assert total == pytest.approx(info["progress"])
    return info["progress"], actions, info


# ------------------------------------------------------------------------------------- pages
def test_first_observation_is_upstreams_search_page(make):
    env = make()
    obs, info = env.reset(options={"index": 0})
    goal = "find running shoes with a rubber sole in grey size 10, and price lower than 110.00 dollars"
    assert obs == f"WebShop [SEP] Instruction: [SEP] {goal} [SEP] Search"
    assert info["goal"] == goal and info["admissible_actions"] == ["search[<query>]"]
    assert REQUIRED_INFO <= info.keys() and env.num_instances == 30


def test_results_item_and_sub_pages(make):
    env = make(max_turns=50)
    env.reset(options={"index": 0})
    obs, *_, info = env.step("search[running shoes]")
    head = (
        "Instruction: [SEP] find running shoes with a rubber sole in grey size 10, and price lower than 110.00 dollars"
    )
    assert obs.startswith(head + " [SEP] Back to Search [SEP] Page 1 (Total results: 14) [SEP] Next > [SEP] B0RUN")
    assert obs.count("[SEP] B0RUN") == 10 and "< Prev" not in obs
    assert info["admissible_actions"][:2] == ["click[Back to Search]", "click[Next >]"]
    obs, *_, info = env.step("click[Next >]")
    assert "Page 2 (Total results: 14) [SEP] < Prev [SEP] Next >" in obs and obs.count("[SEP] B0RUN") == 4
    obs, *_ = env.step("click[Next >]")  # upstream shows Next > on every results page: an empty page 3
    assert obs.endswith("Page 3 (Total results: 14) [SEP] < Prev [SEP] Next >")
    env.step("click[< Prev]")
    obs, *_, info = env.step("click[B0RUN00006]")
    assert obs == (
        f"{head} [SEP] Back to Search [SEP] < Prev [SEP] color [SEP] black | white [SEP] navy blue [SEP] grey "
        "[SEP] size [SEP] 7 [SEP] 8 [SEP] 9 [SEP] 9.5 [SEP] 10 [SEP] 11 [SEP] Ombra Men's Cushioned Running "
        "Sneaker 7, Breathable Mesh Upper [SEP] Price: $69.99 [SEP] Rating: N.A. [SEP] Description [SEP] "
        "Features [SEP] Reviews [SEP] Buy Now"
    )
    assert "click[black | white]" in info["admissible_actions"] and info["admissible_actions"][-1] == "click[Buy Now]"
    obs, *_ = env.step("click[Description]")
    assert obs.startswith(f"{head} [SEP] Back to Search [SEP] < Prev [SEP] The Ombra cushioned running sneaker")
    obs, *_ = env.step("click[< Prev]")
    assert obs.endswith("[SEP] Buy Now")  # back on the item page
    obs, *_ = env.step("click[Features]")
    assert obs.endswith(
        "< Prev [SEP] Breathable mesh upper keeps feet cool (model 7) [SEP] Rubber sole with "
        "multi-directional grip [SEP] Lace-up closure"
    )
    env.step("click[< Prev]")
    obs, *_ = env.step("click[Reviews]")
    assert obs == f"{head} [SEP] Back to Search [SEP] < Prev"  # upstream's data has no reviews
    obs, *_ = env.step("click[Back to Search]")
    assert obs.startswith("WebShop [SEP] Instruction:") and obs.endswith("[SEP] Search")


def test_prices_ranges_and_defaults_show_as_upstream(make):
    env = make()
    env.reset(options={"index": 0})
    obs, *_ = env.step("search[silkline clip in hair extensions set 1]")
    assert (
        "B0HAIR0000 [SEP] Silkline Clip in Hair Extensions Set 1 Natural Looking Human Hair [SEP] $24.5 to $36.0" in obs
    )
    env.step("click[Back to Search]")
    obs, *_ = env.step("search[stoneware coffee mug set 3]")
    assert "B0MUG00002 [SEP] Stoneware Coffee Mug Set 3 - Dishwasher and Microwave Safe [SEP] $100.0" in obs


# ------------------------------------------------------------------------------------- action rules
@pytest.mark.parametrize(
    "action",
    [
        "search[]",
        "search[   ]",
        "search[shoes",
        "searchshoes]",
        "search[shoes]x",
        "SEARCH[shoes]",
        "click[Buy Now]",
        "click[search]",
        "click[]",
        "look",
        "",
        "click[Back to Search",
    ],
)
def test_invalid_actions_on_the_search_page_change_nothing(make, action):
    env = make()
    first, _ = env.reset(options={"index": 3})
    obs, step_reward, terminated, truncated, info = env.step(action)
    assert obs == first and step_reward == 0.0 and not terminated and info["valid_action"] is False


def test_search_only_from_the_search_page_unless_asked(make):
    env = make()
    env.reset(options={"index": 3})
    results, *_ = env.step("search[usb microphone]")
    obs, _, _, _, info = env.step("search[green tea]")
    assert obs == results and info["valid_action"] is False
    anywhere = make(search_anywhere=True)
    anywhere.reset(options={"index": 3})
    anywhere.step("search[usb microphone]")
    obs, _, _, _, info = anywhere.step("search[green tea]")
    assert info["valid_action"] is True and "B0TEA" in obs and info["admissible_actions"][0] == "search[<query>]"


def test_clicks_are_case_insensitive_and_unknown_buttons_invalid(make):
    env = make()
    env.reset(options={"index": 3})
    env.step("search[usb microphone]")
    obs, *_, info = env.step("click[b0mic00004]")
    assert info["valid_action"] and "Cardioid USB Microphone Kit 5" in obs
    for bad in ("click[Add to Cart]", "click[B0MIC00099]", "click[Buy Now ]", "click[[Buy Now]", "click[Next >]"):
        again, *_, info = env.step(bad)
        assert again == obs and info["valid_action"] is False, bad
    *_, info = env.step("click[BLACK]")
    assert info["valid_action"]
    obs, step_reward, terminated, _, info = env.step("click[buy now]")
    assert terminated and info["purchase"]["options"] == {"color": "black"} and step_reward == info["progress"]


def test_a_100kb_search_is_answered_quickly(make):
    env = make()
    env.reset(options={"index": 3})
    start = time.perf_counter()
    obs, _, _, _, info = env.step("search[" + "running shoes " * 7_100 + "]")  # 99.4 KB
    assert time.perf_counter() - start < 5.0
    assert info["valid_action"] and "Page 1 (Total results: 14)" in obs


def test_search_results_have_at_most_50_products_and_stop_words_find_nothing(make):
    env = make()
    env.reset(options={"index": 3})
    obs, *_ = env.step("search[the of and]")
    assert "Page 1 (Total results: 0) [SEP] Next >" in obs and "B0" not in obs.split("Total results")[1]
    service = env._service.service
    assert len(service.index.search("men's shoes mug tea hair microphone usb", k=50)) == 33
    assert len(service.index.search("shoes mug tea hair microphone", k=10)) == 10


# ------------------------------------------------------------------------------------- episodes and reward
def test_buying_scores_with_the_upstream_reward(make):
    env = make()
    env.reset(options={"index": 0})  # grey running shoes, size 10, rubber sole, under $110
    env.step("search[green tea]")
    env.step("click[B0TEA00000]")
    obs, step_reward, terminated, truncated, info = env.step("click[Buy Now]")
    purchase = info["purchase"]
    assert terminated and not truncated and not info["success"]
    assert obs.startswith("Thank you for shopping with us! [SEP] Your score (min 0.0, max 1.0) [SEP]")
    assert purchase["r_type"] == 0.0 and step_reward == 0.0  # a tea is not a running shoe
    env.reset(options={"index": 0})
    env.step("search[running shoes]")
    env.step("click[B0RUN00009]")
    env.step("click[grey]")
    *_, info = env.step("click[Buy Now]")  # right product, size not chosen: 1 attribute + 1 of 2 options + price
    assert info["progress"] == pytest.approx(3 / 4) and info["purchase"]["option_matches"] == 1
    assert env.step("click[Buy Now]")[0] == EPISODE_OVER


def test_reward_matches_a_hand_computed_case():
    cat = webshop_catalogue.load(str(FIXTURE), SIZES)
    goal = cat.goals[0]
    product = cat.products["B0RUN00009"]
    value, parts = reward(product, goal, cat.prices[product.asin], {"color": "grey", "size": "10"})
    assert value == 1.0 and parts["r_price"] is True
    value, parts = reward(product, goal, 500.0, {"color": "navy blue"})  # over the limit, no matching option
    assert value == pytest.approx(1 / 4) and parts["r_price"] is False and parts["option_matches"] == 0


def test_two_sessions_on_the_same_goal_never_see_each_others_clicks(make):
    env = make()
    service = env._service.service
    a = service.create("test", 5)["session"]
    b = service.create("test", 5)["session"]
    service.step(a, "search[coffee mugs]")
    service.step(a, "click[B0MUG00001]")
    view_b = service.step(b, "search[usb microphone]")
    view_a = service.step(a, "click[16 oz (pack of 4)]")
    assert view_a["state"]["options"] == {"size": "16 oz (pack of 4)"} and view_a["state"]["asin"] == "B0MUG00001"
    assert view_b["state"]["asin"] is None and view_b["state"]["keywords"] == "usb microphone"
    done_a = service.step(a, "click[Buy Now]")
    assert done_a["done"] and not service.step(b, "click[Back to Search]")["done"]
    assert service.handle({"op": "snapshot", "session": b})["state"]["page"] == "search"
    service.handle({"op": "close", "session": a})
    assert service.handle({"op": "step", "session": a, "action": "x"})["ok"] is False


def test_service_errors_are_replies_not_crashes(make):
    service = make()._service.service
    assert service.handle({"op": "teleport"}) == {
        "ok": False,
        "error": "UnknownOp: unknown op 'teleport'; the webshop service has close, create, info, reset, restore, "
        "snapshot, step",
        "error_type": "UnknownOp",
    }
    assert "index must be an int" in service.handle({"op": "create", "split": "test", "index": 99})["error"]
    assert "no split" in service.handle({"op": "create", "split": "train", "index": 0})["error"]
    session = service.create("test", 0)["session"]
    assert "not a webshop session state" in service.handle({"op": "restore", "session": session, "state": {}})["error"]


def test_gym_make_through_the_registry(index_dir):
    env = gym.make(
        "agentrm/WebShop-v0", sandbox=None, catalogue=str(FIXTURE), index_cache=str(index_dir), split_sizes=SIZES
    )
    obs, info = env.reset(options={"index": 1})
    assert obs.startswith("WebShop [SEP] Instruction:") and info["task"] == "webshop"
    dev = gym.make(
        "agentrm/WebShop-v0",
        split="dev",
        sandbox=None,
        catalogue=str(FIXTURE),
        index_cache=str(index_dir),
        split_sizes=SIZES,
    )
    assert dev.unwrapped.num_instances == 6
    with pytest.raises(ValueError, match="sandbox must be one of"):
        WebShopEnv(sandbox="kubernetes", catalogue=FIXTURE, index_cache=index_dir)


# ------------------------------------------------------------------------------------- the generic checks
def test_check_env(make):
    check_env(make(), skip_render_check=True)


def test_fuzzed_actions_never_raise(make):
    env = make(max_turns=10_000)
    rng = np.random.default_rng(0)
    _, info = env.reset(seed=0, options={"index": 1})
    admissible = info["admissible_actions"]
    extra = [
        "search[" + "z" * 100_000 + "]",
        "search[[shoes]",
        "click[[B0RUN00001]]",
        "click[Checkout]",
        "[]",
        "click[Next >",
        "click]Buy Now[",
        "click[🙂]",
    ]
    for action in extra + fuzz_actions(rng, admissible, 1000):
        obs, _, terminated, truncated, info = env.step(action)
        assert isinstance(obs, str) and REQUIRED_INFO <= info.keys()
        if action.strip() and action not in admissible and action.strip() not in admissible and "z" * 99 not in action:
            assert info["valid_action"] is False, action[:80]
        if terminated or truncated:
            env.reset(seed=0, options={"index": 1})
    progress, _, info = run_expert(env, 1)
    assert info["success"] and progress == 1.0


@pytest.mark.parametrize("native", [True, False], ids=["native", "replay"])
def test_snapshot_restore_replays_identically(make, native, monkeypatch):
    env = make()
    if not native:
        monkeypatch.setattr(env, "_native_state", lambda: None)
    rng = np.random.default_rng(1)
    obs, info = env.reset(seed=5, options={"index": env.num_instances - 1})
    for _ in range(3):
        obs, *_, info = env.step(env.expert_action())
    state = env.snapshot()
    assert (state.native is not None) is native
    actions, first = [], []
    for _ in range(4):
        choices = info["admissible_actions"] or [env.expert_action()]
        actions.append(choices[int(rng.integers(len(choices)))])
        first.append(env.step(actions[-1]))
        info = first[-1][-1]
    restored_obs, restored_info = env.restore(state)
    assert restored_obs == obs and restored_info["turn"] == 3
    assert [env.step(a) for a in actions] == first
    env.restore(state)
    assert run_expert_from_here(env)["success"]


def run_expert_from_here(env: WebShopEnv) -> dict:
    terminated = truncated = False
    info: dict = {}
    while not (terminated or truncated):
        *_, terminated, truncated, info = env.step(env.expert_action())
    return info


def test_snapshot_is_a_server_side_copy(make):
    env = make()
    env.reset(options={"index": 2})
    env.step("search[running shoes]")
    state = env.snapshot()
    env.step("click[Next >]")
    env.step("click[B0RUN00012]")
    assert state.native["page"] == "results" and state.native["page_num"] == 1
    obs, info = env.restore(state)
    assert "Page 1 (Total results: 14)" in obs and info["admissible_actions"][1] == "click[Next >]"


# ------------------------------------------------------------------------------------- the expert
def brute_force_best(cat, goal) -> float:
    """The best reward over every product of the catalogue and every choice of its options."""
    best = 0.0
    for product in cat.products.values():
        groups = [[None, *values] for values in product.options.values()]
        names = list(product.options)
        for combo in itertools.product(*groups):
            chosen = {n: v for n, v in zip(names, combo, strict=True) if v is not None}
            best = max(best, reward(product, goal, cat.prices[product.asin], chosen)[0])
    return best


def test_expert_reaches_the_best_reward_on_every_fixture_goal(make):
    cat = webshop_catalogue.load(str(FIXTURE), SIZES)
    below_one = {}
    for split, count in (("test", 30), ("dev", 6)):
        env = make(split=split)
        for index in range(count):
            progress, actions, info = run_expert(env, index)
            plan = env.expert_plan
            goal = cat.goals[cat.splits[split][index]]
            assert progress == pytest.approx(plan["max_reward"]) == pytest.approx(brute_force_best(cat, goal))
            assert len(actions) == plan["steps"] <= env.max_turns and info["purchase"]["asin"] == goal.asin
            if progress < 1.0:
                below_one[goal.asin] = plan["shortfall"]
    assert below_one == {
        "B0HAIR0002": ["goal option 'platinum' matches none of the product's option values"],
        "B0HAIR0000": ["goal attribute 'synthetic fiber' is not among the product's attributes or text"],
    }


def test_expert_pages_when_its_query_ranks_the_target_past_page_one(make):
    env = make()
    _, actions, info = run_expert(env, 26)
    assert actions == [
        "search[running shoes]",
        "click[Next >]",
        "click[B0RUN00006]",
        "click[black | white]",
        "click[10]",
        "click[Buy Now]",
    ]
    assert info["success"]


def test_expert_recovers_from_a_detour(make):
    env = make()
    env.reset(options={"index": 4})
    for action in ("search[coffee mugs]", "click[B0MUG00000]", "click[Description]"):
        env.step(action)
    assert run_expert_from_here(env)["success"]


# ------------------------------------------------------------------------------------- data
def test_missing_small_catalogue_names_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    ok, note = webshop_catalogue.data_availability()
    assert not ok and "agentrm-bench data fetch webshop" in note
    assert not tasks.runnable(tasks.get("webshop"))
    with pytest.raises(data.DataMissingError, match="agentrm-bench data fetch webshop"):
        WebShopEnv(sandbox=None)


def test_real_small_catalogue_when_present(tmp_path):
    data_file("webshop", webshop_catalogue.SMALL_FILES["products"])
    data_file("webshop", webshop_catalogue.SMALL_FILES["instructions"])
    env = WebShopEnv(sandbox=None, index_cache=tmp_path)
    service = env._service.service
    goals = len(service.catalogue.goals)
    assert len(service.catalogue.products) == 1000 and env.num_instances == 500
    assert WebShopEnv(sandbox=None, split="dev", index_cache=tmp_path).num_instances == min(1000, goals - 500)
    rewards = []
    for index in range(20):
        progress, actions, _ = run_expert(env, index)
        assert progress == pytest.approx(env.expert_plan["max_reward"]) and len(actions) <= env.max_turns
        rewards.append(progress)
    assert np.mean(rewards) > 0.5


@pytest.mark.slow
def test_expert_over_the_real_small_test_split(tmp_path):
    """The expert on all 500 test goals (the reference numbers of the task's closing note)."""
    data_file("webshop", webshop_catalogue.SMALL_FILES["products"])
    data_file("webshop", webshop_catalogue.SMALL_FILES["instructions"])
    env = WebShopEnv(sandbox=None, index_cache=tmp_path)
    rewards = []
    for index in range(env.num_instances):
        progress, actions, _ = run_expert(env, index)
        assert progress == pytest.approx(env.expert_plan["max_reward"]) and len(actions) <= env.max_turns
        rewards.append(progress)
    assert np.mean(rewards) > 0.5
