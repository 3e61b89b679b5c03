"""BabyAI (held-out): AgentBoard's 112 instances on minigrid's real levels, as text.

``env.py`` the environment; ``levels.py`` the 28 levels x 4 seeds; ``text.py`` the rendering and command
parsing; ``progress.py`` AgentBoard's subgoal matching; ``expert.py`` the planner; ``prompt.py`` and
``example.json`` the prompt pieces; ``upstream.py`` the annotation file it fetches.
"""

from ...task_spec import HELD_OUT, TaskSpec
from .upstream import FILES, RM_PROMPTS

SPEC = TaskSpec(
    id="agentrm/BabyAI-v0",
    name="babyai",
    group=HELD_OUT,
    category="embodied",
    headline="progress",
    sizes={"test": 112, "train": 1792},  # train: our own seeds, disjoint from the test seeds (levels.py)
    max_turns=30,
    entry_point="agentrm_bench.envs.babyai.env:BabyAIEnv",
    requires=("minigrid",),
    data=(FILES,),
    prompt="agentrm_bench.envs.babyai.prompt",
    rm_prompts=RM_PROMPTS,
    rm_template="prm_babyai",
)
