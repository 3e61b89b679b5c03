"""Jericho (held-out): AgentBoard's 20 interactive-fiction games on jericho's Z-machine interpreter.

``env.py`` the environment; ``games.py`` the game list and goals; ``text.py`` AgentBoard's action and
observation cleaning; ``valid.py`` valid-action listing; ``subgoals.py`` (+ ``subgoals.json``) our
walkthrough subgoals; ``upstream.py`` the story files it fetches.
"""

from ...task_spec import HELD_OUT, TaskSpec
from .upstream import FILES, RM_PROMPTS

SPEC = TaskSpec(
    id="agentrm/Jericho-v0",
    name="jericho",
    group=HELD_OUT,
    category="text game",
    headline="progress",
    sizes={"test": 20},
    max_turns=30,
    entry_point="agentrm_bench.envs.jericho.env:JerichoEnv",
    requires=("jericho",),
    extra="jericho",
    data=(FILES,),
    metric_note="jericho progress: our subgoals from each game's walkthrough (its PROVENANCE.md)",
    rm_prompts=RM_PROMPTS,
    rm_template="prm_jericho",
)
