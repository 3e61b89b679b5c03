"""agentrm-bench: reward-model-guided LLM agents on nine text-agent tasks.

Importing the package registers the nine Gymnasium ids (``agentrm/Maze-v0`` ...).
"""

from importlib.metadata import PackageNotFoundError, version

from .env import Outcome, Snapshot, TextEnv
from .task_spec import TaskSpec
from .tasks import register_all

try:
    __version__ = version("agentrm-bench")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

register_all()

__all__ = ["Outcome", "Snapshot", "TaskSpec", "TextEnv", "__version__"]
