"""One registry mechanism: plug-ins from outside the package (``module:attribute`` and entry points) run
through the harness, are recorded with their origin, and bad names get one line listing the known ones."""

from __future__ import annotations

import json
import subprocess
import sys

import gymnasium as gym
import pytest

from agentrm_bench import harness, leaderboard, llm, policies, rewards, submission
from agentrm_bench.cli import main
from agentrm_bench.manifest import RunConfig
from agentrm_bench.records import read_records
from agentrm_bench.registry import Registry, UnknownPluginError
from agentrm_bench.search import strategy as strategies

from .conftest import REPO


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--policy", "nope"],
            "unknown policy 'nope'; known: expert, random, noisy-expert, noop, greedy, best-of-n, beam, search",
        ),
        (["--policy", "greedy", "--model", "nope"], "unknown model spec 'nope': use default[:sft], hf:PATH, vllm:PATH"),
        (
            ["--policy", "best-of-n", "--model", "scripted", "--rm", "nope"],
            "unknown reward model 'nope': use explicit:PATH, implicit:POLICY,REF, judge:MODEL, oracle or",
        ),
        (
            ["--policy", "search", "--model", "scripted", "--policy-arg", "strategy=nope"],
            "unknown search strategy 'nope'; known: greedy, best-of-n, beam",
        ),
        (
            ["--policy", "best-of-n", "--model", "scripted", "--rm", "tests.plugin_examples:Missing"],
            "has no attribute 'Missing'",
        ),
        (
            ["--policy", "best-of-n", "--model", "scripted", "--rm", "tests.plugin_examples:PreferMoveRM:jump"],
            "prefer-move takes one of move up",
        ),
        (["--policy", "tests.no_such_module:Policy"], "unknown policy 'tests.no_such_module:Policy'; known: expert"),
        (["--policy", "search", "--model", "scripted"], "needs --policy-arg strategy=NAME (greedy, best-of-n, beam"),
    ],
)
def test_unknown_or_bad_plugins_are_one_line_exit_2_and_nothing_written(capsys, tmp_path, argv, message):
    out = tmp_path / "r"
    code, _, err = run_cli(capsys, "run", *argv, "--tasks", "maze", "--out", str(out))
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not out.exists()


def test_module_attribute_reward_model_strategy_and_model_guide_a_search(capsys, tmp_path):
    out = tmp_path / "r"
    code, _, err = run_cli(
        capsys,
        "run",
        "--policy",
        "search",
        "--policy-arg",
        "strategy=tests.plugin_examples:StepwiseBest",
        "--policy-arg",
        "k=3",
        "--model",
        "tests.plugin_examples:seeded_llm",
        "--rm",
        "tests.plugin_examples:PreferMoveRM:move left",
        "--policy-arg",
        'rm_options={"weight": 2.0}',
        "--tasks",
        "maze",
        "--limit",
        "3",
        "--out",
        str(out),
        "--no-progress",
    )
    assert code == 0, err
    records = read_records(out)
    assert len(records) == 3
    for record in records:
        assert record.extra["strategy"] == "stepwise-best" and record.extra["k"] == 3
        for chosen, offered in zip(record.actions, record.extra["offered"], strict=True):
            assert len(offered) == 3
            assert chosen == ("move left" if "move left" in offered else offered[0])  # the RM's pick
    settings = json.loads((out / "manifest.json").read_text())["policy_settings"]
    assert settings["strategy"] == "tests.plugin_examples:StepwiseBest" and settings["k"] == 3
    plugins = settings["plugins"]  # where the strategy and the model backend came from
    assert (plugins["strategy"]["source"], plugins["model"]["target"]) == ("module", "tests.plugin_examples:seeded_llm")
    assert settings["reward_model"]["settings"] == {"kind": "prefer-move", "move": "move left", "weight": 2.0}
    identity = settings["reward_model"]["identity"]
    assert identity["name"] == "prefer-move" and identity["package"] is None  # the tests are no installed package


def test_module_attribute_policy_runs_in_worker_processes(tmp_path):
    config = RunConfig(policy="tests.plugin_examples:FirstAdmissiblePolicy", tasks=("maze",), limit=4)
    summary = harness.run(config, tmp_path, workers=2, show_progress=False)
    assert (summary.finished, summary.errors) == (4, 0)
    env = gym.make("agentrm/Maze-v0")
    for record in read_records(tmp_path):
        _, info = env.reset(seed=record.seed, options={"index": record.index})
        assert record.actions[0] == info["admissible_actions"][0]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["policy_settings"] == {"fallback": "look"}
    assert manifest["policy_origin"]["source"] == "module"


def test_a_registered_object_is_used_as_it_is():
    from .plugin_examples import PreferMoveRM

    built = PreferMoveRM("move up")
    rewards.register("fixed-up", built)
    try:
        assert rewards.make_rm("fixed-up") is built and "fixed-up" in rewards.names()
        with pytest.raises(UnknownPluginError, match="takes no argument"):
            rewards.make_rm("fixed-up:x")
        assert rewards.SPECS.origin("fixed-up").source == "registered"
    finally:
        rewards.REGISTRY.unregister("fixed-up")
    with pytest.raises(UnknownPluginError, match="unknown reward model 'fixed-up'"):
        rewards.check_spec("fixed-up")


def test_split_reads_names_with_arguments_and_module_attributes():
    registry: Registry[object] = Registry("thing", "agentrm_bench.things", {"judge": "x:y", "hf": "x:z"})
    assert registry.split("judge") == ("judge", None)
    assert registry.split("judge:hf:/models/a") == ("judge", "hf:/models/a")
    assert registry.split("hf:") == ("hf", "")
    assert registry.split("pkg.mod:Attr") == ("pkg.mod:Attr", None)
    assert registry.split("pkg.mod:Attr:move up") == ("pkg.mod:Attr", "move up")
    with pytest.raises(UnknownPluginError, match="unknown thing 'no such'; known: judge, hf"):
        registry.split("no such")
    with pytest.raises(ValueError, match="without ':'"):
        registry.register("a:b", "x:y")


def test_naming_plugins_imports_no_model_code():
    """The CLI's help and the cheap checks load providers, never a backend or a model library."""
    code = (
        "import sys\n"
        "from agentrm_bench.cli import _parser\n"
        "from agentrm_bench import llm, rewards\n"
        "_parser().format_help(); rewards.check_spec('oracle'); rewards.check_spec('judge:scripted')\n"
        "llm.check_spec('scripted')\n"
        "heavy = ('torch', 'transformers', 'vllm', 'openai', 'agentrm_bench.llm.hf', 'agentrm_bench.rewards.judge')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.strip() == "[]"


# ---------------------------------------------------------------------- an installed plug-in package

PLUGIN = '''
"""A reward-model package as a third party would ship it: its weights beside its code."""
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

from agentrm_bench.llm.scripted import ScriptedLLM
from agentrm_bench.llm.weights import folder_weights
from agentrm_bench.policies import Policy
from agentrm_bench.providers import provider
from agentrm_bench.rewards import RewardModel, RewardModelIdentity

MOVES = ("move up", "move down", "move left", "move right")
WEIGHTS = Path(__file__).parent / "weights"


class DemoRM(RewardModel):
    """A linear reward over move counts, its four weights in a safetensors file."""

    kind = "demo-rm"

    def __init__(self, folder=None):
        self.folder = Path(folder or WEIGHTS)
        self._weights = None

    def identity(self):
        return RewardModelIdentity.of(self.kind, folder_weights(self.folder))

    async def ascore(self, batch):
        if self._weights is None:
            self._weights = load_file(self.folder / "model.safetensors")["moves"]
        return [float(sum(self._weights[MOVES.index(a)] for a in t.actions if a in MOVES)) for t in batch]


class DemoPolicy(Policy):
    def act(self, env, observation, info):
        return "move down"


def _mover(messages, sample, seed):
    move = MOVES[(seed or 0) % 4]
    return f"Thought: {move}.\\nAction: {move}"


@provider("demo-llm", summary="a scripted mover")
def demo_llm(argument, **options):
    return ScriptedLLM(_mover, **options)
'''

ENTRY_POINTS = """
[agentrm_bench.reward_models]
demo-rm = agentrm_demo_plugin:DemoRM
broken-rm = agentrm_demo_plugin.missing:Nothing

[agentrm_bench.policies]
demo-policy = agentrm_demo_plugin:DemoPolicy

[agentrm_bench.llm_backends]
demo-llm = agentrm_demo_plugin:demo_llm

[agentrm_bench.search_strategies]
demo-beam = agentrm_bench.search.strategies:Beam
"""


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """``agentrm-demo-plugin`` 1.2.3, installed the way pip would: a package and its dist-info on sys.path."""
    import numpy as np
    from safetensors.numpy import save_file

    site = tmp_path / "site"
    package = site / "agentrm_demo_plugin"
    (package / "weights").mkdir(parents=True)
    (package / "__init__.py").write_text(PLUGIN)
    (package / "weights" / "config.json").write_text(json.dumps({"_name_or_path": "demo-base"}))
    save_file({"moves": np.array([0.0, 1.0, -1.0, 0.5], dtype=np.float32)}, package / "weights" / "model.safetensors")
    info = site / "agentrm_demo_plugin-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: agentrm-demo-plugin\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    (info / "top_level.txt").write_text("agentrm_demo_plugin\n")
    monkeypatch.syspath_prepend(str(site))
    yield package
    for name in [m for m in sys.modules if m.startswith("agentrm_demo_plugin")]:
        del sys.modules[name]


def test_entry_point_plugins_are_discovered_with_their_package_and_version(plugin, capsys):
    assert "demo-rm" in rewards.names() and "demo-policy" in policies.names()
    assert "demo-llm" in llm.usages() and "demo-beam" in strategies.names()
    origin = rewards.SPECS.origin("demo-rm")
    assert (origin.source, origin.target, origin.package, origin.version) == (
        "entry-point",
        "agentrm_demo_plugin:DemoRM",
        "agentrm-demo-plugin",
        "1.2.3",
    )
    assert policies.origin("demo-policy").package == "agentrm-demo-plugin"
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "demo-policy" in help_text and "demo-rm" in help_text and "demo-llm" in help_text
    with pytest.raises(UnknownPluginError, match=r"entry point agentrm_demo_plugin.missing:Nothing of agentrm-demo-"):
        rewards.check_spec("broken-rm")


def test_an_installed_reward_model_runs_is_submitted_and_verified(plugin, capsys, tmp_path):
    out, board = tmp_path / "run", tmp_path / "board"
    argv = ["--policy", "best-of-n", "--model", "demo-llm", "--rm", "demo-rm", "-n", "2", "--tasks", "maze"]
    code, _, err = run_cli(capsys, "run", *argv, "--out", str(out), "--no-progress")
    assert code == 0, err
    records = read_records(out)
    assert len(records) == 25  # the whole test set: a run that can be submitted
    for record in records:  # the RM's scores are its weights . move counts of each candidate
        assert record.extra["scores"][record.extra["chosen"]] == max(record.extra["scores"])

    code, _, err = run_cli(capsys, "submit", str(out), "--name", "demo-rm-bon", "--board", str(board))
    assert code == 0, err
    document = leaderboard.load(board, "demo-rm-bon")
    row = document["reward_model"]
    assert (row["kind"], row["base_model"], row["parameters"]) == ("demo-rm", "demo-base", 4)
    assert (row["package"], row["version"]) == ("agentrm-demo-plugin", "1.2.3")
    assert len(row["weights_sha256"]) == 64 and document["search"]["strategy"] == "best-of-n"
    assert "demo-rm" in leaderboard.tables(leaderboard.load_all(board))
    assert document["policy"]["resolved"]["plugins"]["model"]["package"] == "agentrm-demo-plugin"
    assert "strategy" not in document["policy"]["resolved"]["plugins"]  # best-of-n is built in

    result = submission.verify(board, "demo-rm-bon", fraction=0.2, workers=0, show_progress=False)
    assert result.agreed and result.episodes == 5
    assert leaderboard.load(board, "demo-rm-bon")["status"] == "verified"

    import numpy as np
    from safetensors.numpy import save_file

    save_file({"moves": np.array([0.0, 1.0, -1.0, 0.25], dtype=np.float32)}, plugin / "weights" / "model.safetensors")
    result = submission.verify(board, "demo-rm-bon", fraction=0.2, workers=0, show_progress=False)
    assert not result.agreed and result.episodes == 0
    assert result.differences[0].startswith(f"reward model weights: sha256 {row['weights_sha256']} submitted, ")


def test_an_installed_policy_runs_by_its_name(plugin, tmp_path):
    config = RunConfig(policy="demo-policy", tasks=("maze",), limit=2)
    summary = harness.run(config, tmp_path, workers=0, show_progress=False)  # the plug-in is on this sys.path only
    assert (summary.finished, summary.errors) == (2, 0)
    assert all(set(r.actions) == {"move down"} for r in read_records(tmp_path))
    origin = json.loads((tmp_path / "manifest.json").read_text())["policy_origin"]
    assert (origin["source"], origin["package"], origin["version"]) == ("entry-point", "agentrm-demo-plugin", "1.2.3")
