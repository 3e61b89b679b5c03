"""ALFWorld (held-in): text-only ALFWorld on its upstream engine (TextWorld), under AgentBoard's rules
(``test``, the nine-task table's) or ETO's (``test-eto``, ``dev``).

``env.py`` the environment; ``conventions.py`` the two upstream wrappers' rules; ``engine.py`` the
TextWorld engine and its planner; ``games.py`` the game lists; ``progress.py`` our milestones from each
game's PDDL goal; ``upstream.py`` the game files.
"""

from ...task_spec import HELD_IN, TaskSpec
from .upstream import FILES, RM_PROMPTS

SPEC = TaskSpec(
    id="agentrm/ALFWorld-v0",
    name="alfworld",
    group=HELD_IN,
    category="embodied",
    headline="success",
    sizes={"test": 134, "test-eto": 134, "dev": 140},
    max_turns=30,  # AgentBoard's budget (test); test-eto and dev take ETO's 40
    entry_point="agentrm_bench.envs.alfworld.env:ALFWorldEnv",
    requires=("alfworld", "textworld"),
    extra="alfworld",
    data=(FILES,),
    metric_note="alfworld progress: our milestones from each game's PDDL goal (its PROVENANCE.md)",
    rm_prompts=RM_PROMPTS,
    rm_template="prm_alfworld",
)
