"""Tool-Operation (held-out): AgentBoard's sheet and todo toolsets, run locally.

``env.py`` the client the agent plays; ``service.py`` the toolset sessions; ``sheet*.py`` the spreadsheet
over the reference workbook; ``todo.py`` the Todoist-compatible list on SQLite; ``rows.py`` the 40 rows;
``expert.py`` the experts.
"""

from ...task_spec import HELD_OUT, TaskSpec
from ..tool_common.upstream import RM_PROMPTS
from .upstream import FILES

SPEC = TaskSpec(
    id="agentrm/ToolOperation-v0",
    name="tool-operation",
    group=HELD_OUT,
    category="tools",
    headline="progress",
    sizes={"test": 40},
    max_turns=30,
    entry_point="agentrm_bench.envs.tool_operation.env:ToolOperationEnv",
    sandbox="server",
    requires=("openpyxl", "formulas", "regex"),
    extra="tool-operation",
    data=(FILES,),
    rm_prompts=RM_PROMPTS,
    rm_template="prm_tool_operation",
)
