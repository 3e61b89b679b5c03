"""Tool-Query (held-out): answer questions with AgentBoard's academia, weather and movie toolsets.

``env.py`` the client the agent plays; ``service.py`` the toolsets' sessions and AgentBoard's scoring;
``academia.py``, ``weather.py``, ``movie.py`` the toolsets; ``cassette.py`` and ``record.py`` recorded API
responses; ``rows.py`` the 60 rows; ``expert.py`` the reference-path expert.
"""

from ...task_spec import HELD_OUT, TaskSpec
from ..tool_common.upstream import RM_PROMPTS
from .upstream import FILES

SPEC = TaskSpec(
    id="agentrm/ToolQuery-v0",
    name="tool-query",
    group=HELD_OUT,
    category="tools",
    headline="progress",
    sizes={"test": 60},
    max_turns=30,
    entry_point="agentrm_bench.envs.tool_query.env:ToolQueryEnv",
    sandbox="server",
    requires=("networkx", "requests", "geopy"),
    extra="tool-query",
    data=(FILES,),
    data_check="agentrm_bench.envs.tool_query.env:data_availability",
    rm_prompts=RM_PROMPTS,
    rm_template="prm_tool_query",
)
