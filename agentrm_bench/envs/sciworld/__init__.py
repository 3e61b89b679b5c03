"""ScienceWorld (held-in): the real simulator (a JVM), as AgentBoard (``test``) and ETO (``test-eto``,
``dev``) play it.

``env.py`` the environment; ``sets.py`` the problems of each split; ``rules.py`` the upstream loop each
split follows; ``sim.py`` the simulator process (scienceworld 1.1.3); ``upstream.py`` the annotation files
it fetches.
"""

from ...task_spec import HELD_IN, TaskSpec
from .upstream import FILES, RM_PROMPTS

SPEC = TaskSpec(
    id="agentrm/ScienceWorld-v0",
    name="sciworld",
    group=HELD_IN,
    category="embodied",
    headline="progress",
    sizes={"test": 90, "test-eto": 211, "dev": 194},
    max_turns=30,
    entry_point="agentrm_bench.envs.sciworld.env:ScienceWorldEnv",
    requires=("scienceworld",),
    extra="sciworld",
    data=(FILES,),
    rm_prompts=RM_PROMPTS,
    rm_template="prm_sciworld",
)
