"""PDDL (held-out): AgentBoard's 60 planning problems as a text game.

``env.py`` the environment; ``problems.py`` parsing and grounding (unified-planning); ``text.py``
AgentBoard's texts and action parser; ``expert.py`` the Fast Downward expert; ``upstream.py`` the
domain and problem files it fetches.
"""

from ...task_spec import HELD_OUT, TaskSpec
from .upstream import FILES, RM_PROMPTS

SPEC = TaskSpec(
    id="agentrm/PDDL-v0",
    name="pddl",
    group=HELD_OUT,
    category="text game",
    headline="progress",
    sizes={"test": 60},
    max_turns=30,
    entry_point="agentrm_bench.envs.pddl.env:PDDLEnv",
    requires=("unified_planning",),
    extra="pddl",
    expert_requires=("up_fast_downward",),
    expert_extra="pddl-expert",
    data=(FILES,),
    data_check="agentrm_bench.envs.pddl.problems:data_availability",
    rm_prompts=RM_PROMPTS,
    rm_template="prm_pddl_{domain}",
)
