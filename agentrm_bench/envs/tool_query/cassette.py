"""HTTP transports for the weather and movie toolsets: live, recorded (cassette replay) and recording.

Upstream AgentBoard calls the Open-Meteo and TMDB REST APIs live, so its scores drift as those services
change and cannot be reproduced offline. The tools here talk to a small :class:`Transport` instead of
``requests`` directly, and the tool logic (date rules, field stripping, top-10 lists) is the same code
whichever transport answers:

- :class:`LiveTransport`: the real APIs through ``requests`` (needs network; TMDB needs a key).
- :class:`RecordedTransport`: answers from a cassette file. A request that is not in the cassette raises
  :class:`NotRecordedError`, which the toolset shows the agent as an ``ERROR | NotRecordedError(...)``
  observation: a missing response is never invented.
- :class:`RecordingTransport`: cassette first, live on a miss, and the live answer is written to the
  cassette. This is how ``python -m agentrm_bench.envs.tool_query.record`` fills cassettes.

A cassette is one JSON file per toolset::

    {"format": "agentrm-bench/tool-cassette", "version": 1, "toolset": "weather",
     "synthetic": false, "note": "...",
     "interactions": [{"request": {"method": "GET", "url": "...", "params": [["k", "v"], ...]},
                       "response": {"status": 200, "json": {...}}}, ...]}

Requests are keyed by method, URL and the query parameters as ``requests`` sends them (``None`` dropped,
values as ``str``), so header-borne credentials are never part of a key and never written to disk.
``synthetic: true`` marks a hand-made test cassette; the environment refuses such a file unless told the
caller knows (tests), so a fixture can never pass for recorded API data.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

FORMAT = "agentrm-bench/tool-cassette"
VERSION = 1
TIMEOUT_S = 30.0
# Responses that describe the caller or the moment (bad key, rate limit, server trouble), not the data:
# recording them would replay a transient failure forever.
NOT_RECORDED_STATUSES = frozenset({401, 403, 407, 408, 429}) | frozenset(range(500, 600))


class NotRecordedError(LookupError):
    """The cassette has no response for this request (shown to the agent as a tool error)."""


class ToolBackendError(RuntimeError):
    """The live API could not be reached: an environment error (recorded and retried), not an agent error."""


@dataclass(frozen=True)
class HttpResponse:
    """What the tools read from an HTTP answer: the status and the JSON body (or the text on failure)."""

    status: int
    body: Any

    def to_json(self) -> dict[str, Any]:
        key = "json" if self.status == 200 else "text"
        return {"status": self.status, key: self.body}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HttpResponse:
        return cls(int(data["status"]), data["json"] if "json" in data else data.get("text", ""))


class Transport(Protocol):
    """``get`` one URL with query parameters; headers carry credentials and are never recorded."""

    def get(
        self, url: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> HttpResponse:
        """Answer one GET request."""
        ...


def request_key(url: str, params: dict[str, Any] | None) -> str:
    """The cassette key of a GET request: URL plus sorted stringified parameters, ``None`` values dropped."""
    return json.dumps(["GET", url, _query(params)], ensure_ascii=False)


def _query(params: dict[str, Any] | None) -> list[list[str]]:
    return sorted([str(k), str(v)] for k, v in (params or {}).items() if v is not None)


def _describe(url: str, params: dict[str, Any] | None, limit: int = 300) -> str:
    text = url + ("?" + "&".join(f"{k}={v}" for k, v in _query(params)) if params else "")
    return text if len(text) <= limit else text[:limit] + "..."


class LiveTransport:
    """The real HTTP APIs through ``requests`` (imported lazily: the recorded path needs no network stack)."""

    def __init__(self, timeout: float = TIMEOUT_S):
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"LiveTransport(timeout={self.timeout})"

    def get(
        self, url: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> HttpResponse:
        import requests

        try:
            response = requests.get(url, params=params, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            # The exception text names the URL and the error class only; headers (keys) are never included.
            raise ToolBackendError(f"{type(exc).__name__} while calling {url}") from None
        if response.status_code == 200:
            return HttpResponse(200, response.json())
        return HttpResponse(response.status_code, response.text)


class Cassette:
    """Recorded responses of one toolset, read from and written to one JSON file."""

    def __init__(self, path: Path, toolset: str, synthetic: bool = False, note: str = ""):
        self.path = Path(path)
        self.toolset = toolset
        self.synthetic = synthetic
        self.note = note
        self._entries: dict[str, tuple[dict[str, Any], HttpResponse]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def load(cls, path: Path) -> Cassette:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{path} is not an agentrm-bench tool cassette (format {FORMAT!r} expected)")
        if data.get("version") != VERSION:
            raise ValueError(f"{path}: cassette version {data.get('version')!r}, this build reads {VERSION}")
        cassette = cls(
            path, str(data.get("toolset", "")), bool(data.get("synthetic", False)), str(data.get("note", ""))
        )
        for item in data.get("interactions", []):
            request = item["request"]
            params = dict(request.get("params", []))
            cassette.add(request["url"], params, HttpResponse.from_json(item["response"]))
        return cassette

    def add(self, url: str, params: dict[str, Any] | None, response: HttpResponse) -> None:
        request = {"method": "GET", "url": url, "params": _query(params)}
        with self._lock:
            self._entries[request_key(url, params)] = (request, response)

    def lookup(self, url: str, params: dict[str, Any] | None) -> HttpResponse | None:
        entry = self._entries.get(request_key(url, params))
        return None if entry is None else entry[1]

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            interactions = [{"request": req, "response": resp.to_json()} for req, resp in self._entries.values()]
        return {
            "format": FORMAT,
            "version": VERSION,
            "toolset": self.toolset,
            "synthetic": self.synthetic,
            "note": self.note,
            "interactions": interactions,
        }

    def save(self) -> None:
        """Write atomically (temporary file, then rename), so an interrupted save never truncates a cassette."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.to_json(), handle, ensure_ascii=False, indent=1)
                handle.write("\n")
            os.chmod(tmp, 0o644)  # mkstemp creates 0600; a cassette is ordinary data
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class RecordedTransport:
    """Answers only from a cassette; anything else is a :class:`NotRecordedError`."""

    def __init__(self, cassette: Cassette, record_hint: str = ""):
        self.cassette = cassette
        self.record_hint = record_hint

    def get(
        self, url: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> HttpResponse:
        response = self.cassette.lookup(url, params)
        if response is None:
            hint = f"; {self.record_hint}" if self.record_hint else ""
            raise NotRecordedError(
                f"not recorded: GET {_describe(url, params)} is not in the cassette {self.cassette.path.name}{hint}"
            )
        return response


class RecordingTransport:
    """Cassette first; on a miss ask the live API and keep its answer (saved after every new entry)."""

    def __init__(self, cassette: Cassette, live: Transport | None = None):
        if cassette.synthetic:
            raise ValueError(f"{cassette.path} is a synthetic fixture cassette; record into a real cassette file")
        self.cassette = cassette
        self.live = live or LiveTransport()
        self.new_entries = 0

    def get(
        self, url: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> HttpResponse:
        response = self.cassette.lookup(url, params)
        if response is not None:
            return response
        response = self.live.get(url, params, headers)
        if response.status not in NOT_RECORDED_STATUSES:
            self.cassette.add(url, params, response)
            self.cassette.save()
            self.new_entries += 1
        return response
