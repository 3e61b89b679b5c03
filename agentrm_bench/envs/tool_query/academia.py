"""The academia toolset: AgentBoard's PaperNet / AuthorNet tools over its DBLP subset (networkx graphs).

Upstream ships the graph as six pickles in ``data/tool-query/academia/raw/`` (two networkx graphs and
four name <-> node-id dictionaries). Their structure, which the tools rely on:

- ``paper_net``: nodes are paper ids with attributes ``authors, year, venue, n_citation, keywords,
  doc_type``; an edge is a citation link (edge attributes usually empty).
- ``author_net``: nodes are author ids with attributes ``name, org``; an edge joins co-authors and carries
  ``collaborative_papers`` (paper ids, shown to the agent as titles).
- ``title2id_dict`` / ``id2title_dict``, ``author2id_dict`` / ``id2author_dict``.

Pickles can run code when loaded, so they are read with an allow-list unpickler that only rebuilds
networkx graph classes, plain containers and numpy scalars; anything else is refused with a message (set
``AGENTRM_BENCH_TRUST_PICKLES=1`` to load a file you trust that needs more). The graphs are loaded once
per process and shared read-only by every episode; "PaperNet is loaded" is per-episode state, as upstream.
"""

from __future__ import annotations

import copy
import os
import pickle
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from .rows import GRAPH_FILES
from .service import Tool, Toolset

TRUST_ENV = "AGENTRM_BENCH_TRUST_PICKLES"
GRAPHS = ("PaperNet", "AuthorNet")
_SAFE_BUILTINS = frozenset({"dict", "list", "tuple", "set", "frozenset", "int", "float", "str", "bytes", "bool"})
_SAFE_GLOBALS = frozenset(
    {
        ("collections", "OrderedDict"),
        ("collections", "defaultdict"),
        ("copyreg", "_reconstructor"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
    }
)


class UnsafePickleError(pickle.UnpicklingError):
    """A graph file asks to rebuild something other than graphs, containers and numbers."""


class _GraphUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        allowed = (
            (module == "builtins" and name in _SAFE_BUILTINS)
            or (module, name) in _SAFE_GLOBALS
            or (module.startswith("networkx.classes.") and not name.startswith("_"))
        )
        if not allowed:
            raise UnsafePickleError(
                f"the academia graph file references {module}.{name}, which the safe loader does not rebuild; "
                f"if you trust the file, set {TRUST_ENV}=1"
            )
        return super().find_class(module, name)


def load_pickle(path: Path) -> Any:
    """Read one pickle through the allow-list (or plainly, if the user trusts the files)."""
    with open(path, "rb") as handle:
        if os.environ.get(TRUST_ENV) == "1":
            return pickle.load(handle)  # noqa: S301 - explicitly trusted by the user
        return _GraphUnpickler(handle).load()


@dataclass(frozen=True)
class AcademiaGraph:
    paper_net: Any
    author_net: Any
    title2id: dict[Any, Any]
    author2id: dict[Any, Any]
    id2title: dict[Any, Any]
    id2author: dict[Any, Any]


_CACHE: dict[str, AcademiaGraph] = {}
_CACHE_LOCK = threading.Lock()


def load_graph(folder: Path) -> AcademiaGraph:
    """The six pickles of ``folder``, loaded once per process."""
    key = str(Path(folder).resolve())
    with _CACHE_LOCK:
        if key not in _CACHE:
            parts = [load_pickle(Path(folder) / name) for name in GRAPH_FILES]
            _CACHE[key] = AcademiaGraph(*parts)
        return _CACHE[key]


def _guard(run):
    """Upstream catches any lookup error inside these tools and reports it as a failed call."""

    def wrapped(**kwargs: Any) -> tuple[bool, Any]:
        try:
            return run(**kwargs)
        except Exception as exc:  # noqa: BLE001 - e.g. an unhashable node name: a failed call, as upstream
            return False, f"{type(exc).__name__}({exc})"

    return wrapped


class AcademiaToolset(Toolset):
    """One episode's academia tools over a shared :class:`AcademiaGraph`."""

    toolset: ClassVar[str] = "academia"
    valid_actions: ClassVar[tuple[str, ...]] = (
        "loadPaperNet",
        "loadAuthorNet",
        "neighbourCheck",
        "paperNodeCheck",
        "authorNodeCheck",
        "authorEdgeCheck",
        "paperEdgeCheck",
        "check_valid_actions",
        "finish",
    )

    def __init__(self, graph: AcademiaGraph):
        self.graph = graph
        self.paper_loaded = False
        self.author_loaded = False

    def tools(self) -> dict[str, Tool]:
        neighbour = Tool("neighbourCheck", ("graph", "node"), _guard(self.neighbour_check))
        return {
            "loadPaperNet": Tool("loadPaperNet", (), self.load_paper_net),
            "loadAuthorNet": Tool("loadAuthorNet", (), self.load_author_net),
            "neighbourCheck": neighbour,
            "neighborCheck": neighbour,  # upstream accepts the US spelling too
            "paperNodeCheck": Tool("paperNodeCheck", ("node",), _guard(self.paper_node_check)),
            "authorNodeCheck": Tool("authorNodeCheck", ("node",), _guard(self.author_node_check)),
            "authorEdgeCheck": Tool("authorEdgeCheck", ("node1", "node2"), _guard(self.author_edge_check)),
            "paperEdgeCheck": Tool("paperEdgeCheck", ("node1", "node2"), _guard(self.paper_edge_check)),
            "finish": Tool("finish", ("answer",), self.finish),
        }

    def state(self) -> dict[str, Any]:
        return {"paper_loaded": self.paper_loaded, "author_loaded": self.author_loaded}

    def load_state(self, state: dict[str, Any]) -> None:
        self.paper_loaded = bool(state.get("paper_loaded"))
        self.author_loaded = bool(state.get("author_loaded"))

    # ------------------------------------------------------------------ tools
    def load_paper_net(self) -> tuple[bool, Any]:
        self.paper_loaded = True
        return True, "PaperNet is loaded."

    def load_author_net(self) -> tuple[bool, Any]:
        self.author_loaded = True
        return True, "AuthorNet is loaded."

    def neighbour_check(self, graph: Any, node: Any) -> tuple[bool, Any]:
        if graph == "PaperNet" and not self.paper_loaded:
            return False, "Please load the PaperNet first."
        if graph == "AuthorNet" and not self.author_loaded:
            return False, "Please load the AuthorNet first."
        if graph == "PaperNet":
            net, names, ids = self.graph.paper_net, self.graph.id2title, self.graph.title2id
        elif graph == "AuthorNet":
            net, names, ids = self.graph.author_net, self.graph.id2author, self.graph.author2id
        else:
            return False, f"There is no graph named {graph}; the graphs are {list(GRAPHS)}."
        if node not in ids:
            return False, f"There is no node named {node} in the {graph}."
        return True, [names[neighbour] for neighbour in net.neighbors(ids[node])]

    def paper_node_check(self, node: Any) -> tuple[bool, Any]:
        if not self.paper_loaded:
            return False, "Please load the PaperNet first."
        if node not in self.graph.title2id:
            return False, f"There is no node named {node} in the PaperNet."
        return True, copy.deepcopy(dict(self.graph.paper_net.nodes[self.graph.title2id[node]]))

    def author_node_check(self, node: Any) -> tuple[bool, Any]:
        if not self.author_loaded:
            return False, "Please load the AuthorNet first."
        if node not in self.graph.author2id:
            return False, f"There is no node named {node} in the AuthorNet."
        return True, copy.deepcopy(dict(self.graph.author_net.nodes[self.graph.author2id[node]]))

    def author_edge_check(self, node1: Any, node2: Any) -> tuple[bool, Any]:
        if not self.author_loaded:
            return False, "Please load the AuthorNet first."
        ids = self.graph.author2id
        for node in (node1, node2):
            if node not in ids:
                return False, f"There is no node named {node} in the AuthorNet."
        net = self.graph.author_net
        if ids[node2] not in net.neighbors(ids[node1]):
            return False, f"There is no edge between {node1} and {node2}."
        edge = copy.deepcopy(dict(net.edges[ids[node1], ids[node2]]))
        if "collaborative_papers" in edge:
            edge["collaborative_papers"] = [self.graph.id2title[p] for p in edge["collaborative_papers"]]
        return True, edge

    def paper_edge_check(self, node1: Any, node2: Any) -> tuple[bool, Any]:
        if not self.paper_loaded:
            return False, "Please load the PaperNet first."
        ids = self.graph.title2id
        for node in (node1, node2):
            if node not in ids:
                return False, f"There is no node named {node} in the PaperNet."
        net = self.graph.paper_net
        if ids[node2] not in net.neighbors(ids[node1]):
            return False, f"There is no edge between {node1} and {node2}."
        return True, copy.deepcopy(dict(net.edges[ids[node1], ids[node2]]))
