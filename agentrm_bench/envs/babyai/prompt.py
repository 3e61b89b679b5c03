"""Our own babyai prompt pieces: the instruction and how the in-context example is made (``example.json``)."""

from __future__ import annotations

# What the task is and its actions; the prompt format adds how to reply (Thought / Action).
INSTRUCTION = (
    "You control a robot in a grid world of rooms with doors, keys, balls and boxes. Each turn you "
    "are told what you can see in front of you and what you carry, and you give one command.\n"
    "Commands (replace <obj> <n> by an object and its number as written in the observation):\n"
    "turn left / turn right - face another direction\n"
    "move forward - step one cell ahead\n"
    "go to <obj> <n> - walk up to a visible object or door\n"
    "pickup <obj> <n> - walk to a visible key, ball or box and pick it up\n"
    "drop - put down what you carry\n"
    "toggle - open the door right in front of you\n"
    "go through <door> <n> - walk through a visible open door\n"
    "toggle and go through <door> <n> - open a closed door (a locked one needs the key of its colour) "
    "and walk through it\n"
    "check available actions - list the commands that work right now\n"
    "Complete the mission stated in the first observation."
)

# The instance the in-context example is played on.
EXAMPLE_INDEX = 56
