"""Maze (held-out): LMRL-Gym's double-T maze as AgentGym serves it.

``env.py`` holds the grid, the rules and the BFS expert; ``prompt.py`` our instruction and the example's
thoughts; ``example.json`` the in-context example; ``PROVENANCE.md`` where each fact comes from.
"""

from ...task_spec import HELD_OUT, TaskSpec
from .upstream import RM_PROMPTS

SPEC = TaskSpec(
    id="agentrm/Maze-v0",
    name="maze",
    group=HELD_OUT,
    category="text game",
    headline="success",
    sizes={"test": 25},
    max_turns=50,
    entry_point="agentrm_bench.envs.maze.env:MazeEnv",
    prompt="agentrm_bench.envs.maze.prompt",
    rm_prompts=RM_PROMPTS,
    rm_template="prm_maze",
    goal_in_observation=True,
)
