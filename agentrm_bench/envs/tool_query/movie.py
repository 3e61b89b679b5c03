"""The movie toolset: AgentBoard's TMDB tools (v3 REST API) over a pluggable transport.

What each tool keeps of TMDB's answer follows AgentBoard / AgentGym's ``utils/movie/movie_tools.py``:
search keeps the first hit only (``[{id, overview, title}]`` for movies, ``[{id, name}]`` or ``[]`` for
people); cast lists and a person's credits keep the first 10 entries; a movie's crew lists every
Director, Producer and Writer and tops the list up to 10 with other crew; translations keep the
countries NL, CN, US, DE, RU, JP (AgentGym's list, which its Russian- and Japanese-title questions
need; AgentBoard's has the first four) without the translated title. For progress matching, the fields
``overview, biography, vote_average, genres, revenue, budget, release_date`` are dropped from a
recorded answer, as upstream does.

The live backend authenticates with a TMDB API read access token taken from the ``MOVIE_KEY``
environment variable (upstream's name). The token travels only in the Authorization header: it is never
part of a cassette key, never written to a cassette and never shown in an observation or a log.
"""

from __future__ import annotations

import copy
import os
from typing import Any, ClassVar

from .cassette import HttpResponse, Transport
from .service import Tool, Toolset

KEY_ENV = "MOVIE_KEY"
API = "https://api.themoviedb.org/3"
URLS = {
    "search_movie": f"{API}/search/movie",
    "search_person": f"{API}/search/person",
    "movie": API + "/movie/{movie_id}",
    "credits": API + "/movie/{movie_id}/credits",
    "keywords": API + "/movie/{movie_id}/keywords",
    "alternative_titles": API + "/movie/{movie_id}/alternative_titles",
    "translations": API + "/movie/{movie_id}/translations",
    "person": API + "/person/{person_id}",
    "person_credits": API + "/person/{person_id}/movie_credits",
    "external_ids": API + "/person/{person_id}/external_ids",
}
MAIN_CREW_JOBS = ("Director", "Producer", "Writer")
TRANSLATION_COUNTRIES = ("NL", "CN", "US", "DE", "RU", "JP")
SUBGOAL_IGNORED = ("overview", "biography", "vote_average", "genres", "revenue", "budget", "release_date")
TOP = 10


def auth_headers(token: str | None = None) -> dict[str, str]:
    """The live API's headers; the token comes from ``MOVIE_KEY`` unless given."""
    token = token if token is not None else os.environ.get(KEY_ENV, "")
    if not token:
        raise RuntimeError(f"the live movie backend needs a TMDB API read access token in ${KEY_ENV}")
    return {"Authorization": f"Bearer {token}", "accept": "application/json"}


def _search_params(query: Any) -> dict[str, Any]:
    return {"query": query, "include_adult": "false", "language": "en-US", "page": "1"}


class MovieToolset(Toolset):
    """One episode's movie tools (stateless apart from the transport)."""

    toolset: ClassVar[str] = "movie"
    valid_actions: ClassVar[tuple[str, ...]] = (
        "get_search_movie",
        "get_movie_details",
        "get_movie_production_companies",
        "get_movie_production_countries",
        "get_movie_cast",
        "get_movie_crew",
        "get_movie_keywords",
        "get_search_person",
        "get_person_details",
        "get_person_cast",
        "get_person_crew",
        "get_person_external_ids",
        "get_movie_alternative_titles",
        "get_movie_translation",
        "check_valid_actions",
        "finish",
    )

    def __init__(self, transport: Transport, headers: dict[str, str] | None = None):
        self.transport = transport
        self._headers = headers or {}

    def __repr__(self) -> str:  # never show the headers (they hold the token)
        return f"MovieToolset(transport={self.transport!r})"

    def tools(self) -> dict[str, Tool]:
        movie = ("movie_id",)
        person = ("person_id",)
        table = {
            "get_search_movie": (("movie_name",), self.search_movie),
            "get_movie_details": (movie, self.movie_details),
            "get_movie_production_companies": (movie, self.production_companies),
            "get_movie_production_countries": (movie, self.production_countries),
            "get_movie_cast": (movie, self.movie_cast),
            "get_movie_crew": (movie, self.movie_crew),
            "get_movie_keywords": (movie, self.movie_keywords),
            "get_search_person": (("person_name",), self.search_person),
            "get_person_details": (person, self.person_details),
            "get_person_cast": (person, self.person_cast),
            "get_person_crew": (person, self.person_crew),
            "get_person_external_ids": (person, self.person_external_ids),
            "get_movie_alternative_titles": (movie, self.movie_alternative_titles),
            "get_movie_translation": (movie, self.movie_translation),
            "finish": (("answer",), self.finish),
        }
        return {name: Tool(name, params, run) for name, (params, run) in table.items()}

    def subgoal(self, result: Any) -> Any:
        result = copy.deepcopy(result)
        items = result if isinstance(result, list) else [result]
        for item in items:
            if isinstance(item, dict):
                for key in SUBGOAL_IGNORED:
                    item.pop(key, None)
        return result

    # ------------------------------------------------------------------ tools
    def _get(self, key: str, params: dict[str, Any] | None = None, **ids: Any) -> HttpResponse:
        return self.transport.get(URLS[key].format(**ids), params, self._headers)

    def search_movie(self, movie_name: Any) -> tuple[bool, Any]:
        response = self._get("search_movie", _search_params(movie_name))
        if response.status != 200:
            return False, response.body
        first = response.body["results"][0]
        return True, [{"id": first["id"], "overview": first["overview"], "title": first["title"]}]

    def movie_details(self, movie_id: Any) -> tuple[bool, Any]:
        response = self._get("movie", movie_id=movie_id)
        if response.status != 200:
            return False, response.body
        data = response.body
        keys = ("title", "budget", "genres", "revenue", "vote_average", "release_date")
        return True, {key: copy.deepcopy(data[key]) for key in keys}

    def production_companies(self, movie_id: Any) -> tuple[bool, Any]:
        return self._movie_field(movie_id, "production_companies")

    def production_countries(self, movie_id: Any) -> tuple[bool, Any]:
        return self._movie_field(movie_id, "production_countries")

    def _movie_field(self, movie_id: Any, field: str) -> tuple[bool, Any]:
        response = self._get("movie", movie_id=movie_id)
        if response.status != 200:
            return False, response.body
        return True, {field: copy.deepcopy(response.body[field])}

    def movie_cast(self, movie_id: Any) -> tuple[bool, Any]:
        response = self._get("credits", movie_id=movie_id)
        if response.status != 200:
            return False, response.body
        cast = response.body["cast"][:TOP]
        return True, {"cast": [{"id": c["id"], "name": c["name"], "character": c["character"]} for c in cast]}

    def movie_crew(self, movie_id: Any) -> tuple[bool, Any]:
        response = self._get("credits", movie_id=movie_id)
        if response.status != 200:
            return False, response.body
        everyone = response.body["crew"]
        crew = [{"id": c["id"], "name": c["name"], "job": c["job"]} for c in everyone if c["job"] in MAIN_CREW_JOBS]
        if len(crew) < TOP:
            listed = [c["id"] for c in crew]  # fixed before topping up, as upstream (a person may recur)
            for c in everyone:
                if c["id"] not in listed:
                    crew.append({"id": c["id"], "name": c["name"], "job": c["job"]})
                if len(crew) == TOP:
                    break
        return True, {"crew": crew}

    def movie_keywords(self, movie_id: Any) -> tuple[bool, Any]:
        response = self._get("keywords", movie_id=movie_id)
        if response.status != 200:
            return False, response.body
        return True, {"keywords": [keyword["name"] for keyword in response.body["keywords"]]}

    def search_person(self, person_name: Any) -> tuple[bool, Any]:
        response = self._get("search_person", _search_params(person_name))
        if response.status != 200:
            return False, response.body
        results = response.body["results"]
        if not results:
            return True, []
        return True, [{"id": results[0]["id"], "name": results[0]["name"]}]

    def person_details(self, person_id: Any) -> tuple[bool, Any]:
        response = self._get("person", person_id=person_id)
        if response.status != 200:
            return False, response.body
        data = response.body
        return True, {key: data[key] for key in ("name", "biography", "birthday", "place_of_birth")}

    def person_cast(self, person_id: Any) -> tuple[bool, Any]:
        return self._person_credits(person_id, "cast", "character")

    def person_crew(self, person_id: Any) -> tuple[bool, Any]:
        return self._person_credits(person_id, "crew", "job")

    def _person_credits(self, person_id: Any, part: str, detail: str) -> tuple[bool, Any]:
        response = self._get("person_credits", person_id=person_id)
        if response.status != 200:
            return False, response.body
        entries = response.body[part][:TOP]
        return True, {part: [{"id": e["id"], "title": e["title"], detail: e[detail]} for e in entries]}

    def person_external_ids(self, person_id: Any) -> tuple[bool, Any]:
        response = self._get("external_ids", person_id=person_id)
        if response.status != 200:
            return False, response.body
        data = response.body
        return True, {key: data[key] for key in ("imdb_id", "facebook_id", "instagram_id", "twitter_id")}

    def movie_alternative_titles(self, movie_id: Any) -> tuple[bool, Any]:
        response = self._get("alternative_titles", movie_id=movie_id)
        if response.status != 200:
            return False, response.body
        return True, copy.deepcopy(response.body)

    def movie_translation(self, movie_id: Any) -> tuple[bool, Any]:
        response = self._get("translations", movie_id=movie_id)
        if response.status != 200:
            return False, response.body
        data = copy.deepcopy(response.body)
        data["translations"] = [t for t in data["translations"] if t["iso_3166_1"] in TRANSLATION_COUNTRIES]
        for item in data["translations"]:
            item["data"].pop("title", None)
        return True, data
