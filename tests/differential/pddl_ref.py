"""AgentBoard's PDDL wrapper over a small STRIPS interpreter of the raw PDDL files, re-implemented from its file.

Source: hkust-nlp/AgentBoard @ bb7255e2, ``agentboard/environment/pddl_env/pddl_env.py`` (``step``: a text
containing "check" lists the valid actions, one containing "look around" shows the whole state, else
``text_to_action`` reads the first word naming an operator with a valid grounding and the words naming
objects, cut to its arity; an action that leaves the state as it was is "not valid"; ``get_goal_and_obs``
shows, in barman and tyreworld, only the atoms that became true; ``update`` appends " The goal is
satisfied."; the progress rate is the fraction of goal atoms, re-measured after a change) and
``agentboard/tasks/pddl.py`` (success is ``env.won`` once done).

The engine is pddlgym's semantics written out here, independently of unified-planning (which our
environment uses): an action applies when its preconditions, bound to the objects named, hold; deletes
are applied before adds. Two things are facts taken from ``agentrm_bench.envs.pddl``: the row -> file
table (``problems.INSTANCES``) and the sentence templates (``text.TEMPLATES``, checked against upstream's
first observations in tests/test_pddl.py). Upstream prints the valid actions and "look around" in Python
set order, which changes from process to process; here they are sorted (what our environment shows), so
the comparison is of their content. Words are split by NLTK itself, as upstream splits them.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from .common import RefStep

DIFF_DOMAINS = ("barman", "tyreworld")


# ----------------------------------------------------------------------------- PDDL as nested lists
def _tree(text: str) -> list:
    text = re.sub(r";[^\n]*", "", text.lower()).replace("?", " ?")  # pddlgym splits parameters at "?"
    tokens = re.findall(r"\(|\)|[^\s()]+", text)
    stack: list[list] = [[]]
    for token in tokens:
        if token == "(":
            stack.append([])
        elif token == ")":
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(token)
    return stack[0][0]


def _typed(items: list[str]) -> list[tuple[str, str]]:
    """``a b - t c`` -> [(a, t), (b, t), (c, object)]."""
    out: list[tuple[str, str]] = []
    pending: list[str] = []
    i = 0
    while i < len(items):
        if items[i] == "-":
            out += [(name, items[i + 1]) for name in pending]
            pending, i = [], i + 2
        else:
            pending.append(items[i])
            i += 1
    return out + [(name, "object") for name in pending]


def _literals(node: list) -> tuple[list[tuple], list[tuple]]:
    if not node:
        return [], []
    if node[0] == "and":
        pos, neg = [], []
        for child in node[1:]:
            p, n = _literals(child)
            pos, neg = pos + p, neg + n
        return pos, neg
    if node[0] == "not":
        return [], [tuple(node[1])]
    return [tuple(node)], []


class Strips:
    """One domain and problem: typed objects, lifted operators, the initial state and the goal."""

    def __init__(self, domain_text: str, problem_text: str):
        domain, problem = _tree(domain_text), _tree(problem_text)
        parents: dict[str, str] = {}
        self.types: dict[str, str] = {}
        self.operators: dict[str, tuple] = {}
        for section in domain[2:]:
            head = section[0]
            if head == ":types":
                parents.update(dict(_typed(section[1:])))
            elif head == ":constants":
                self.types.update(dict(_typed(section[1:])))
            elif head == ":action":
                fields = {section[i]: section[i + 1] for i in range(2, len(section) - 1, 2)}
                params = _typed(fields.get(":parameters", []))
                pre = _literals(fields.get(":precondition", []))
                eff = _literals(fields.get(":effect", []))
                self.operators[section[1]] = (params, pre, eff)
        for section in problem[2:]:
            if section[0] == ":objects":
                self.types.update(dict(_typed(section[1:])))
            elif section[0] == ":init":
                self.init = frozenset(tuple(atom) for atom in section[1:])
            elif section[0] == ":goal":
                self.goal = _literals(section[1])[0]
        self.parents = parents

    def is_a(self, kind: str, wanted: str) -> bool:
        while True:
            if kind == wanted or wanted == "object":
                return True
            if kind not in self.parents:
                return False
            kind = self.parents[kind]

    def _bind(self, atom: tuple, binding: dict[str, str]) -> tuple:
        return tuple(binding.get(term, term) for term in atom)

    def applicable(self, operator: str, args: tuple[str, ...], state: frozenset) -> bool:
        params, (pos, neg), _ = self.operators[operator]
        binding = {var: arg for (var, _), arg in zip(params, args, strict=True)}
        return all(self._bind(a, binding) in state for a in pos) and not any(
            self._bind(a, binding) in state for a in neg
        )

    def apply(self, operator: str, args: tuple[str, ...], state: frozenset) -> frozenset:
        params, _, (add, delete) = self.operators[operator]
        binding = {var: arg for (var, _), arg in zip(params, args, strict=True)}
        return (state - {self._bind(a, binding) for a in delete}) | {self._bind(a, binding) for a in add}

    def valid(self, state: frozenset) -> list[tuple[str, tuple[str, ...]]]:
        """Applicable groundings naming distinct objects of the parameters' types."""
        found = []
        for name, (params, _, _) in self.operators.items():
            pools = [[o for o, t in self.types.items() if self.is_a(t, kind)] for _, kind in params]
            for args in itertools.product(*pools):
                if len(set(args)) == len(args) and self.applicable(name, args, state):
                    found.append((name, args))
        return found


# ----------------------------------------------------------------------------- the wrapper
def words(text: str) -> list[str]:
    """Upstream's ``nltk.word_tokenize`` of the lower-cased text: Punkt sentences, then NLTK's word tokenizer.

    Punkt runs untrained here (upstream loads NLTK's English parameters, a data download); they differ
    only on abbreviations, which these texts do not hold.
    """
    from nltk.tokenize.destructive import NLTKWordTokenizer
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    tokenizer = NLTKWordTokenizer()
    return [w for sentence in PunktSentenceTokenizer().tokenize(text.lower()) for w in tokenizer.tokenize(sentence)]


class AgentBoardPDDL:
    def __init__(self) -> None:
        from agentrm_bench.envs.pddl import text

        self.templates = text.TEMPLATES

    def sentence(self, name: str, args: tuple[str, ...]) -> str:
        template = self.templates.get(name)
        return template.format(*args) if template is not None else name + " " + " ".join(args)

    def state_text(self, atoms: Any) -> str:
        return " ".join(sorted(self.sentence(a[0], a[1:]).capitalize() for a in atoms))

    def reset(self, index: int) -> str:
        from agentrm_bench import data
        from agentrm_bench.envs.pddl import problems

        instance = problems.INSTANCES[index]
        read = lambda relative: data.path(problems.FILES, relative).read_text()  # noqa: E731
        self.domain = instance.domain
        self.strips = Strips(read(instance.domain_path), read(instance.problem_path))
        self.state = self.strips.init
        self.reward, self.done, self.won = 0.0, False, False
        goal = "The goal is to satisfy the following conditions: " + ", ".join(
            sorted(self.sentence(a[0], a[1:]) for a in self.strips.goal)
        )
        return f"{goal}\n{self.state_text(self.state)}"  # upstream hands the two over separately

    def _answer(self, observation: str, simulator: bool) -> RefStep:
        return RefStep(observation, self.done, self.won and self.done, self.reward, simulator)

    def step(self, action: str) -> RefStep:
        if "check" in action.lower():
            listing = sorted(self.sentence(n, a) for n, a in self.strips.valid(self.state))
            listing += (
                ["check valid actions", "look around"] if self.domain in DIFF_DOMAINS else ["check valid actions"]
            )
            return self._answer("Valid actions are: " + ", ".join(listing), False)
        if "look around" in action.lower():
            return self._answer(self.state_text(self.state), False)
        valid = self.strips.valid(self.state)
        arity = {name: len(args) for name, args in valid}
        tokens = words(action)
        operator = next((t for t in tokens if t in arity), None)
        args = tuple(t for t in tokens if t in self.strips.types)[: arity.get(operator, 0)]
        if operator is None or len(args) < arity[operator]:  # unreadable: the engine is not asked
            return self._answer(
                "The action is not valid and therefore takes no effect. Please check valid actions.", False
            )
        new = self.state
        if self.strips.applicable(operator, args, self.state):
            new = self.strips.apply(operator, args, self.state)
        if new == self.state:
            return self._answer(
                "The action is not valid and therefore takes no effect. Please remember to satisfy the "
                "restriction of actions. You can also check valid actions.",
                True,
            )
        shown = new - self.state if self.domain in DIFF_DOMAINS else new
        self.state = new
        self.reward = max(self.reward, sum(g in new for g in self.strips.goal) / len(self.strips.goal))
        self.won = all(g in new for g in self.strips.goal)
        self.done = self.won
        return self._answer(self.state_text(shown) + (" The goal is satisfied." if self.won else ""), True)

    def close(self) -> None:
        pass
