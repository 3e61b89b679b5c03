"""ALFWorld's two upstream conventions: how AgentBoard's and ETO's wrappers turn a model's text into a step.

Both run the same engine (TextWorld's PDDL backend wrapped by alfworld's ``AlfredDemangler`` and
``AlfredInfos``) on the same 134 games, and both drop the "You arrive at loc N. " prefix of the
engine's feedback; the first observation is in both the intro without its welcome banner. They differ in
what happens between the model's text and the engine, and those differences change scores:

AgentBoard (hkust-nlp/AgentBoard, ``agentboard/tasks/alfworld.py`` ``parseAction`` then
``agentboard/environment/alfworld/alfworld_env.py`` ``step``), split ``test`` -- the nine-task table's:

* the text is stripped; when it contains "put", the first spelling of " in " (else " on ") becomes
  " in/on " everywhere in it, so "put apple 1 in fridge 1" reaches the engine as the grammar's
  "put apple 1 in/on fridge 1"; one trailing period is dropped (the environment drops another);
* "check valid actions" is answered by the wrapper, without touching the engine: "Choose an action
  from these valid actions: " and the current admissible commands joined by ", ", followed by "look"
  (when the engine does not list it) and "check valid actions" -- the task loop appends those two to the
  engine's list before every step (``get_action_space``), so they are part of every such answer;
* "look" goes to the engine (a step like any other), but the answer shown is the wrapper's own: the
  last feedback of a command containing "go to" or "open" that did not say "Nothing happens", or, before
  any, the first line of the intro (the room, without the task);
* 30 turns (``eval_configs/main_results_all_tasks.yaml``, ``max_num_steps``).

ETO (Yifan-Song793/ETO, ``eval_agent/envs/alfworld_env.py``), splits ``test-eto`` and ``dev``: the text
after "Action:" goes to the engine as it is ("check valid actions", "look." or "put apple 1 in
fridge 1" are answered "Nothing happens."; "look" is the engine's own description); 40 turns
(``eval_agent/configs/task/alfworld.json``).

Neither upstream prompt offers a ``think:`` action (AgentBoard's and ETO's in-context examples are plain
"Action:" / "Thought: ... Action:" turns), so a "think: ..." text is what either wrapper makes of it:
the engine's "Nothing happens.".
"""

from __future__ import annotations

AGENTBOARD = "agentboard"
ETO = "eto"
SPLIT_CONVENTIONS = {"test": AGENTBOARD, "test-eto": ETO, "dev": ETO}
MAX_TURNS = {AGENTBOARD: 30, ETO: 40}

LOOK = "look"
CHECK_VALID_ACTIONS = "check valid actions"
VALID_ACTIONS_PREFIX = "Choose an action from these valid actions: "
NOTHING_HAPPENS = "Nothing happens"  # what AgentBoard looks for in the feedback before keeping it for "look"
ARRIVAL_PREFIX = "You arrive at loc "


def agentboard_command(text: str) -> str:
    """The command AgentBoard's task loop and environment make of a model's action text."""
    command = text.strip()
    if "put" in command:
        if " in " in command:
            command = command.replace(" in ", " in/on ")
        elif " on " in command:
            command = command.replace(" on ", " in/on ")
    if command.endswith("."):
        command = command[:-1].strip()
    if command.endswith("."):  # the environment's own cut, after the task's
        command = command[:-1]
    return command


def agentboard_action_space(admissible: list[str] | tuple[str, ...]) -> list[str]:
    """The engine's commands plus the two AgentBoard appends before every step (``get_action_space``)."""
    actions = list(admissible)
    if LOOK not in actions:
        actions.append(LOOK)
    actions.append(CHECK_VALID_ACTIONS)
    return actions


def valid_actions_text(admissible: list[str] | tuple[str, ...]) -> str:
    return VALID_ACTIONS_PREFIX + ", ".join(agentboard_action_space(admissible))


def keeps_for_look(command: str, feedback: str) -> bool:
    """Whether AgentBoard keeps this feedback as the answer to later "look" commands."""
    return ("go to" in command or "open" in command) and NOTHING_HAPPENS not in feedback


def first_observation(feedback: str) -> str:
    """The engine's intro without the welcome banner, paragraphs joined by one newline (both conventions)."""
    return "\n".join(feedback.split("\n\n")[1:])


def room_line(feedback: str) -> str:
    """The first line of the intro (the room, without the task): AgentBoard's answer to an early "look"."""
    return first_observation(feedback).split("\n")[0]


def later_observation(feedback: str) -> str:
    """The engine's feedback without the "You arrive at loc N. " prefix (both conventions)."""
    if feedback.startswith(ARRIVAL_PREFIX):
        return feedback[feedback.find(". ") + 2 :]
    return feedback
