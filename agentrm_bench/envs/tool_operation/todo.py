"""The todo toolset: a local Todoist-compatible service on SQLite (one in-memory database per session).

AgentBoard and AgentGym run these tools against the live Todoist REST API (v2): before an episode they
delete every project of the account and upload a seed file of projects and tasks, then the agent
lists projects and tasks, reads descriptions and durations, completes, reschedules and deletes tasks,
and marks projects as favourites. Here each session owns an SQLite database seeded from the same file,
and the tools answer with the shapes upstream's client produces from Todoist's JSON:

- projects: ``{id, order, color, name, is_favorite}`` (the Inbox is hidden; new projects are "charcoal");
- tasks: ``{id, order, content, is_completed, priority, due_date}`` (only active tasks are listed or
  found by id, as Todoist's active-task endpoints do; completing or deleting a task hides it);
- durations read ``"60(minute)"``; operations answer ``{"message": ..., "task"|"project": ...}``.

Ids are 10-digit strings, deterministic per seed. Upstream logs each successful call's value with the
``id`` fields removed as the "subgoal" the scorer compares (:meth:`TodoToolset.record`); the final state
(:meth:`TodoToolset.inspect`) is the projects and tasks listing without ids, the form of the rows'
``answer`` after :func:`final_state`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import sqlite3
from copy import deepcopy
from pathlib import Path
from typing import Any, ClassVar

from .service import ToolFailure, Toolset

PROJECT_ID_BASE = 2_300_000_000
TASK_ID_BASE = 7_000_000_000
DEFAULT_COLOR = "charcoal"

SCHEMA = """
CREATE TABLE projects (
    id TEXT PRIMARY KEY, position INTEGER NOT NULL, color TEXT NOT NULL, name TEXT NOT NULL,
    is_favorite INTEGER NOT NULL
);
CREATE TABLE tasks (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects(id), position INTEGER NOT NULL,
    content TEXT NOT NULL, description TEXT NOT NULL, is_completed INTEGER NOT NULL, priority INTEGER NOT NULL,
    due_date TEXT, duration_amount INTEGER, duration_unit TEXT
);
"""


def load_seed(path: str | Path) -> list[dict[str, Any]]:
    """The seed file: a list of projects, each with ``name``, ``is_favorite`` and ``tasks``."""
    projects = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(projects, list) or not all(isinstance(p, dict) and "tasks" in p for p in projects):
        raise ValueError(f"{path}: expected a list of projects with tasks")
    return projects


def seed_status(projects: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The state a freshly seeded account shows (the ``answer`` form), computed from the seed itself."""
    toolset = TodoToolset()
    toolset.reset({"seed": projects})
    try:
        return final_state(toolset.inspect())
    finally:
        toolset.close()


def final_state(inspected: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Upstream's final-state form of :meth:`TodoToolset.inspect`: ids (and project links) removed."""
    tasks = [{k: v for k, v in task.items() if k != "project_id"} for task in inspected["tasks"]]
    return {"projects": clean(inspected["projects"]), "tasks": clean(tasks)}


class TodoToolset(Toolset):
    name = "todo"
    tools: ClassVar[tuple[str, ...]] = (
        "get_user_current_date",
        "get_user_current_location",
        "get_projects",
        "update_project",
        "get_tasks",
        "get_task_description",
        "get_task_duration",
        "complete_task",
        "update_task",
        "delete_task",
        "finish",
    )

    def __init__(self) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._date = ""
        self._location = ""

    # ------------------------------------------------------------------ session
    def reset(self, config: dict[str, Any]) -> str:
        """``config``: ``seed`` (path or loaded list), ``current_date``, ``current_location``."""
        seed = config["seed"]
        projects = load_seed(seed) if isinstance(seed, (str, Path)) else seed
        self._date = str(config.get("current_date", ""))
        self._location = str(config.get("current_location", ""))
        self._db.close()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript(SCHEMA)
        task_number = 0
        for p_index, project in enumerate(projects, start=1):
            project_id = str(PROJECT_ID_BASE + p_index)
            self._db.execute(
                "INSERT INTO projects VALUES (?, ?, ?, ?, ?)",
                (project_id, p_index, DEFAULT_COLOR, project["name"], int(bool(project.get("is_favorite")))),
            )
            for t_index, task in enumerate(project["tasks"], start=1):
                task_number += 1
                self._db.execute(
                    "INSERT INTO tasks VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
                    (
                        str(TASK_ID_BASE + task_number),
                        project_id,
                        t_index,
                        task["content"],
                        task.get("description", ""),
                        int(task.get("priority", 1)),
                        task.get("due_date"),
                        task.get("duration"),
                        task.get("duration_unit"),
                    ),
                )
        self._db.commit()
        return f"The todo list is ready ({len(projects)} projects, {task_number} tasks)."

    def snapshot(self) -> dict[str, Any]:
        data = self._db.serialize()
        return {"db": base64.b64encode(data).decode("ascii"), "date": self._date, "location": self._location}

    def restore(self, state: dict[str, Any]) -> None:
        self._db.close()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.deserialize(base64.b64decode(state["db"]))
        self._date, self._location = state["date"], state["location"]

    def inspect(self) -> dict[str, list[dict[str, Any]]]:
        """All projects and all active tasks (project by project) with their ids and ``project_id``;
        :func:`final_state` turns this into the form upstream's final-state check compares."""
        projects = self._projects()
        tasks = [task | {"project_id": p["id"]} for p in projects for task in self._tasks(p["id"])]
        return {"projects": projects, "tasks": tasks}

    def record(self, tool: str, value: Any) -> Any:
        return clean(value)

    def close(self) -> None:
        self._db.close()

    # ------------------------------------------------------------------ tools
    def tool_get_user_current_date(self) -> str:
        return self._date

    def tool_get_user_current_location(self) -> str:
        return self._location

    def tool_get_projects(self) -> list[dict[str, Any]]:
        return self._projects()

    def tool_update_project(self, project_id: Any, is_favorite: Any) -> dict[str, Any]:
        project = self._project(project_id)
        favorite = _boolean(is_favorite)
        self._db.execute("UPDATE projects SET is_favorite = ? WHERE id = ?", (int(favorite), project["id"]))
        self._db.commit()
        return {"message": "The project was updated.", "project": self._project(project["id"])}

    def tool_get_tasks(self, project_id: Any) -> list[dict[str, Any]]:
        if project_id is None:
            return [task for project in self._projects() for task in self._tasks(project["id"])]
        return self._tasks(self._project(project_id)["id"])

    def tool_get_task_description(self, task_id: Any) -> dict[str, Any]:
        row = self._row(task_id)
        return {"id": row["id"], "content": row["content"], "description": row["description"]}

    def tool_get_task_duration(self, task_id: Any) -> dict[str, Any]:
        row = self._row(task_id)
        if row["duration_amount"] is None:
            raise ToolFailure(f"Task {row['id']} has no duration.")
        duration = f"{row['duration_amount']}({row['duration_unit']})"
        return {"id": row["id"], "content": row["content"], "duration": duration}

    def tool_complete_task(self, task_id: Any) -> dict[str, Any]:
        task = self._task(task_id)
        self._db.execute("UPDATE tasks SET is_completed = 1 WHERE id = ?", (task["id"],))
        self._db.commit()
        task.pop("is_completed")
        return {"message": "The task was completed.", "task": task}

    def tool_update_task(self, task_id: Any, due_date: Any) -> dict[str, Any]:
        task = self._task(task_id)
        date = _date(due_date)
        self._db.execute("UPDATE tasks SET due_date = ? WHERE id = ?", (date, task["id"]))
        self._db.commit()
        return {"message": "The task was updated.", "task": self._task(task["id"])}

    def tool_delete_task(self, task_id: Any) -> dict[str, Any]:
        task = self._task(task_id)
        self._db.execute("DELETE FROM tasks WHERE id = ?", (task["id"],))
        self._db.commit()
        return {"message": "The task was deleted.", "task": task}

    def tool_finish(self, answer: Any) -> Any:
        if isinstance(answer, (list, tuple)):
            try:
                return sorted(answer)
            except TypeError:
                raise ToolFailure("TypeError: the items of a list answer must be comparable") from None
        return answer

    # ------------------------------------------------------------------ queries
    def _projects(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT id, position, color, name, is_favorite FROM projects ORDER BY position, id")
        return [{"id": i, "order": o, "color": c, "name": n, "is_favorite": bool(f)} for i, o, c, n, f in rows]

    def _project(self, project_id: Any) -> dict[str, Any]:
        for project in self._projects():
            if project["id"] == _id(project_id):
                return project
        raise ToolFailure(f"Project {project_id} does not exist.")

    def _tasks(self, project_id: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT id FROM tasks WHERE project_id = ? AND is_completed = 0 ORDER BY position, id", (project_id,)
        )
        return [self._task(task_id) for (task_id,) in rows.fetchall()]

    def _row(self, task_id: Any) -> dict[str, Any]:
        cursor = self._db.execute("SELECT * FROM tasks WHERE id = ? AND is_completed = 0", (_id(task_id),))
        row = cursor.fetchone()
        if row is None:
            raise ToolFailure(f"Task {task_id} does not exist.")
        return dict(zip([d[0] for d in cursor.description], row, strict=True))

    def _task(self, task_id: Any) -> dict[str, Any]:
        row = self._row(task_id)
        return {
            "id": row["id"],
            "order": row["position"],
            "content": row["content"],
            "is_completed": bool(row["is_completed"]),
            "priority": row["priority"],
            "due_date": row["due_date"],
        }


def clean(value: Any) -> Any:
    """Upstream's subgoal form of a return value: ``id`` removed from dicts (and their task/project)."""
    value = deepcopy(value)
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                item.pop("id", None)
    elif isinstance(value, dict):
        value.pop("id", None)
        for key in ("task", "project"):
            if isinstance(value.get(key), dict):
                value[key].pop("id", None)
    return value


def _id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ToolFailure(f"ids are strings of digits, got {value!r}")
    return str(value).strip()


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if value in (0, 1):
        return bool(value)
    raise ToolFailure(f"is_favorite must be True or False, got {value!r}")


def _date(value: Any) -> str:
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text).isoformat() if len(text) == 10 else _bad_date(value)
    except ValueError:
        return _bad_date(value)


def _bad_date(value: Any) -> str:
    raise ToolFailure(f"due_date must be a date in YYYY-MM-DD format, got {value!r}")
