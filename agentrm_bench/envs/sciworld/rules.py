"""How each upstream evaluation loop plays ScienceWorld, as rules our splits follow.

The simulator is the same for every split; what differs is the loop around it, and that loop decides
what a score means. Each rule below is read from the upstream code named beside it.

AgentBoard (split ``test``; hkust-nlp/AgentBoard ``agentboard/environment/scienceworld_env.py`` and
``agentboard/tasks/scienceworld.py``):

- ``check valid actions`` (stripped, exact) is answered by the wrapper itself, without touching the
  simulator: "Choose an action from these valid actions: " and the simulator's action templates
  (``getPossibleActions()``) less any holding "reset", then ``check valid actions``. Its prompt tells the
  agent to use it (``check_actions`` in ``eval_configs/main_results_all_tasks.yaml``). The turn counts.
- every other text goes to the wrapper's ``step()``; after each turn the loop lists the valid actions a
  second time (``get_action_space(abstract=False)``, its grounding check), which advances the
  simulator's random generator again.
- progress is the fraction of subgoal patterns found in step observations; the episode ends, with
  success, when every pattern has been found, and otherwise at the turn limit. The simulator's own
  completion and failure do not end it.

ETO (splits ``test-eto`` and ``dev``; Yifan-Song793/ETO ``eval_agent/envs/sciworld_env.py``,
``eval_agent/main.py``, ``eval_agent/utils/replace_sciworld_score.py``):

- every action goes to the wrapper's ``step()``; nothing is answered by the loop.
- the reward is the running maximum of the simulator's raw score; the episode ends when the wrapper
  says done (task completed, or failed with a negative score) or at ETO's per-task step limit.
"""

from __future__ import annotations

from dataclasses import dataclass

CHECK_VALID_ACTIONS = "check valid actions"
CHECK_VALID_ACTIONS_REPLY = "Choose an action from these valid actions: "


@dataclass(frozen=True)
class LoopRules:
    """The rules of one upstream loop (see the module docstring for their sources)."""

    loop: str
    answers_check_valid_actions: bool  # the loop answers "check valid actions" itself
    lists_valid_actions_after_turn: bool  # a second valid-action listing after every turn
    success_by_subgoals: bool  # success (and the end) = every subgoal found; else the simulator's done
    ends_on_failure: bool  # a failed task (negative score) ends the episode


AGENTBOARD = LoopRules(
    "AgentBoard",
    answers_check_valid_actions=True,
    lists_valid_actions_after_turn=True,
    success_by_subgoals=True,
    ends_on_failure=False,
)
ETO = LoopRules(
    "ETO",
    answers_check_valid_actions=False,
    lists_valid_actions_after_turn=False,
    success_by_subgoals=False,
    ends_on_failure=True,
)


def rules_for(split: str) -> LoopRules:
    """AgentBoard's loop for its own problems (``test``), ETO's for ETO's sets."""
    return AGENTBOARD if split == "test" else ETO


def check_valid_actions_reply(templates: list[str]) -> str:
    """AgentBoard's answer to ``check valid actions``, from the simulator's action templates."""
    actions = [action for action in templates if "reset" not in action]
    if CHECK_VALID_ACTIONS not in actions:
        actions.append(CHECK_VALID_ACTIONS)
    return CHECK_VALID_ACTIONS_REPLY + ", ".join(actions)
