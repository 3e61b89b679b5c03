"""Tool-Query (AgentBoard held-out task): answer questions with the academia, weather and movie toolsets.

An action is ``Action: <tool> with Action Input: {json}``; the observation is the tool's return value
as AgentBoard prints it. Progress is AgentBoard's subgoal fraction over the tool return values (see
:mod:`.service`), success is finishing with progress 1. The 60 instances are 20 academia, 20
weather and 20 movie rows (:mod:`.rows`).

Data, and why an instance may error instead of scoring:

- academia reads AgentBoard's DBLP graph, which only ``agentrm-bench data fetch tool-query`` provides;
- weather and movie call the Open-Meteo / TMDB APIs. ``backend="recorded"`` (default) replays cassettes,
  ``backend="live"`` calls the APIs (network; movie needs ``MOVIE_KEY``), ``backend="record"`` does both,
  writing what it fetched into the cassettes.

All 60 instances always exist; one whose data is absent raises
:class:`~agentrm_bench.data.DataMissingError` at reset, naming the command that provides the data (the
harness records an error, never a score). :func:`data_availability` summarises this per toolset.

Constructor options for other data: ``rows`` (a ``.jsonl`` of rows in the upstream schema, replacing the
60 test rows), ``academia_dir`` (a folder of the six graph pickles), ``cassette_dir``, and
``allow_synthetic`` (accept cassettes marked synthetic: the test fixtures, never real data).

``sandbox`` chooses where the toolset service runs (:class:`~agentrm_bench.envs.served.ServedEnv`):
``"local"`` (default; a subprocess, started on the first episode; envs of one process with the same
options share it, each episode in its own session), ``"docker"`` (a container; it has no network, so
only the ``recorded`` backend) or ``None`` (this process). The sandbox server imports :func:`service`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ... import data
from ...env import Outcome
from ..served import ServedEnv
from ..service_pool import Placement
from . import SPEC
from . import rows as toolq_data
from .academia import AcademiaToolset, load_graph
from .cassette import Cassette, LiveTransport, RecordedTransport, RecordingTransport, ToolBackendError, Transport
from .expert import next_action
from .movie import MovieToolset, auth_headers
from .rows import Row
from .service import QueryService, Toolset
from .weather import WeatherToolset

BACKENDS = ("recorded", "live", "record")
SERVICE = "agentrm_bench.envs.tool_query.env:service"
CALL_TIMEOUT = 60.0
"""Seconds one call may take before the server is declared hung and stopped (tool calls take milliseconds;
a live API call has its own shorter HTTP timeout)."""


def data_availability(root: Path | None = None) -> tuple[bool, str]:
    """(every instance has its data here, per-toolset note), for the recorded backend.

    Meant for the task table (``agentrm-bench tasks``) and for choosing the ids the generic contract
    tests run on: those reset instances across the whole set, so they need all three toolsets.
    """
    report = toolq_data.data_report(root)
    note = "; ".join(f"{name}: {state}" for name, state in report.items())
    return all(state == "ready" for state in report.values()), note


class Toolsets:
    """The service's toolset factory: a fresh toolset per session, over the configured data and backend.

    Transports (a loaded cassette, the live client) are kept for the factory's lifetime, i.e. per service.
    """

    def __init__(
        self,
        backend: str = "recorded",
        academia_dir: str | Path | None = None,
        cassette_dir: str | Path | None = None,
        allow_synthetic: bool = False,
    ):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.backend = backend
        self._academia_dir = Path(academia_dir) if academia_dir is not None else None
        self._cassette_dir = Path(cassette_dir) if cassette_dir is not None else None
        self._allow_synthetic = allow_synthetic
        self._transports: dict[str, Transport] = {}

    def __call__(self, row: Row) -> Toolset:
        if row.toolset == "academia":
            folder = self._academia_dir or toolq_data.graph_dir()
            if folder is None or not all((folder / name).is_file() for name in toolq_data.GRAPH_FILES):
                raise toolq_data.missing_graph_error()
            return AcademiaToolset(load_graph(folder))
        transport = self._transport(row.toolset)
        if row.toolset == "weather":
            config = row.init_config or {}
            return WeatherToolset(transport, config.get("current_date"), config.get("current_location"))
        headers = auth_headers() if self.backend != "recorded" else {}
        return MovieToolset(transport, headers)

    def _transport(self, toolset: str) -> Transport:
        if toolset in self._transports:
            return self._transports[toolset]
        if self.backend == "live":
            transport: Transport = LiveTransport()
        else:
            path = toolq_data.cassette_path(toolset, cassette_dir=self._cassette_dir)
            if self.backend == "record":
                cassette = Cassette.load(path) if path.is_file() else Cassette(path, toolset)
                transport = RecordingTransport(cassette)
            else:
                if not path.is_file():
                    raise toolq_data.missing_cassette_error(toolset, path)
                cassette = Cassette.load(path)
                if cassette.synthetic and not self._allow_synthetic:
                    raise data.DataMissingError(
                        f"tool-query: {path} is a synthetic test cassette, not recorded API data; "
                        f"record a real one with `{toolq_data.record_command(toolset)}`"
                    )
                transport = RecordedTransport(cassette, f"record it with `{toolq_data.record_command(toolset)}`")
        self._transports[toolset] = transport
        return transport


def service(
    backend: str = "recorded",
    academia_dir: str | None = None,
    cassette_dir: str | None = None,
    allow_synthetic: bool = False,
) -> QueryService:
    """The Tool-Query service over the given data (JSON-able arguments): the factory the sandbox imports."""
    return QueryService(Toolsets(backend, academia_dir, cassette_dir, allow_synthetic))


class ToolQueryEnv(ServedEnv):
    """The 60 Tool-Query rows behind AgentBoard's tool-call protocol; ``split``, ``max_turns``,
    ``render_mode`` and ``sandbox`` as :class:`~agentrm_bench.envs.served.ServedEnv`."""

    task_spec = SPEC
    service_spec = SERVICE
    codec = QueryService.codec
    error_types = {"DataMissingError": data.DataMissingError, "ToolBackendError": ToolBackendError}
    env_keys = (data.ENV_VAR, "MOVIE_KEY", "AGENTRM_BENCH_TRUST_PICKLES")
    call_timeout = CALL_TIMEOUT

    def __init__(
        self,
        *args: Any,
        backend: str = "recorded",
        rows: str | Path | None = None,
        academia_dir: str | Path | None = None,
        cassette_dir: str | Path | None = None,
        allow_synthetic: bool = False,
        **options: Any,
    ):
        super().__init__(*args, **options)
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if self.sandbox == "docker" and backend != "recorded":
            raise ValueError(
                f"backend={backend!r} calls the live APIs, but a docker sandbox has no network: "
                "use sandbox='local' (or None) for it, or backend='recorded' in docker"
            )
        self.backend = backend
        self.service_kwargs = {
            "backend": backend,
            "academia_dir": str(Path(academia_dir).resolve()) if academia_dir is not None else None,
            "cassette_dir": str(Path(cassette_dir).resolve()) if cassette_dir is not None else None,
            "allow_synthetic": bool(allow_synthetic),
        }
        self._custom_rows: list[Row] | None = None
        if rows is not None:
            self._custom_rows = list(toolq_data.read_rows(Path(rows)).values())
            if not self._custom_rows:
                raise ValueError(f"{rows} holds no rows")
        self._row: Row | None = None

    def _placement(self, kwargs: dict[str, Any]) -> tuple[dict[str, Any], Placement]:
        kwargs, placement = super()._placement(kwargs)
        mounts = tuple(path for path in (kwargs["academia_dir"], kwargs["cassette_dir"]) if path)
        return kwargs, Placement(placement.timeout, placement.start_timeout, mounts=mounts)

    # ------------------------------------------------------------------ instances and data
    @property
    def num_instances(self) -> int:
        return len(self._custom_rows) if self._custom_rows is not None else len(toolq_data.instances())

    def toolset_of(self, index: int) -> str:
        """The toolset of instance ``index`` (known even when its data is absent)."""
        if self._custom_rows is not None:
            return self._custom_rows[index].toolset
        return toolq_data.instances()[index][0]

    def row(self, index: int) -> Row:
        """Row ``index`` of the split; :class:`DataMissingError` if its rows file is absent."""
        if self._custom_rows is not None:
            return self._custom_rows[index]
        toolset, row_id = toolq_data.instances()[index]
        rows = toolq_data.read_rows(toolq_data.rows_path(toolset))
        if row_id not in rows:
            raise data.DataMissingError(
                f"{self.task}: {toolset} row {row_id} is not in {toolq_data.ROW_FILES[toolset]}"
            )
        return rows[row_id]

    # ------------------------------------------------------------------ the TextEnv hooks
    def _start(self, index: int) -> tuple[str, str]:
        self._close_session()
        self._row = None
        row = self.row(index)
        self._open_session(row=row.to_json())  # builds the toolset: DataMissingError if its data is absent
        self._row = row
        return self._session_call("reset")["observation"], row.goal

    def _act(self, action: str) -> Outcome:
        reply = self._session_call("step", action=action)
        extra: dict[str, Any] = {"toolset": self._row.toolset if self._row else None}
        if reply["not_recorded"]:
            extra["not_recorded"] = True
        return Outcome(
            reply["observation"],
            reply["valid"],
            reply["progress"],
            success=reply["success"],
            failed=reply["done"] and not reply["success"],
            extra=extra,
        )

    def _native_state(self) -> Any:
        return self._session_call("snapshot")["state"]

    def _load_native_state(self, state: Any) -> None:
        self._session_call("restore", state=state)

    def expert_action(self) -> str:
        assert self._row is not None
        return next_action(self._row, self.call_log())

    def call_log(self) -> list[dict[str, Any]]:
        """This episode's parsed tool calls with their outcome (tool, args, ok, result), oldest first."""
        return self._session_call("calls")["calls"]

    @property
    def toolset(self) -> str | None:
        """The toolset of the current instance."""
        return self._row.toolset if self._row else None
