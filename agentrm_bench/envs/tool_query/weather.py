"""The weather toolset: AgentBoard's Open-Meteo tools with their date rules, over a pluggable transport.

Rules reproduced from AgentBoard's ``utils/weather/weather_tools.py`` (facts, in our own code):

- ``get_user_current_date`` / ``get_user_current_location`` answer the row's ``init_config``.
- ``get_historical_*`` (temperature, rain, snow, air quality): both dates strictly before the current
  date; ``get_*_forecast``: both strictly after it; any range at most 30 days apart. All of them, the
  forecasts included, read Open-Meteo's *archive* API (the "current date" lies in the past), daily values
  in GMT. ``get_current_*`` takes the date it is given, unchecked, as start and end.
- Geocoding keeps the first 3 English matches and strips ids, admin areas, population, time zone,
  elevation, feature code (and ``country`` when a ``country_code`` is present, an upstream quirk kept).
- Weather answers drop ``elevation``, ``generationtime_ms``, ``timezone``, ``timezone_abbreviation``,
  ``utc_offset_seconds``; air quality keeps the 12:00 GMT value of ``european_aqi_pm2_5`` per day.
- ``get_distance`` is geopy's geodesic distance in km; ``get_air_quality_level`` uses upstream's bands,
  gaps included (a value in (20, 21] or (40, 41] ... falls through to "extremely poor").
- For progress matching, the temperature arrays are removed from a recorded answer (only the rest of a
  temperature response, e.g. its coordinates, can match a subgoal), and a ground-truth dict with
  ``latitude``/``longitude`` matches a recorded one less than 50 km away whose other keys are equal.
"""

from __future__ import annotations

import copy
import math
from datetime import datetime, timedelta
from typing import Any, ClassVar

from .cassette import Transport
from .service import Tool, Toolset

URLS = {
    "archive": "https://archive-api.open-meteo.com/v1/archive",
    "geocoding": "https://geocoding-api.open-meteo.com/v1/search",
    "air_quality": "https://air-quality-api.open-meteo.com/v1/air-quality",
    "elevation": "https://api.open-meteo.com/v1/elevation",
}
DAILY = {
    "temp": "temperature_2m_max,temperature_2m_min,temperature_2m_mean",
    "rain": "rain_sum",
    "snow": "snowfall_sum",
}
TEMPERATURE_KEYS = ("temperature_2m_max", "temperature_2m_min", "temperature_2m_mean")
NOISE_KEYS = ("elevation", "generationtime_ms", "timezone", "timezone_abbreviation", "utc_offset_seconds")
SPAN_ERROR = (
    "Error: Sorry, at present, we support a maximum time span of 30 days between start_date and end_date in a "
    "single query. Your input exceeds this range. You can split your current query into multiple sub-queries "
    "that meet our criteria."
)
SAME_PLACE_KM = 50.0
EARTH_RADIUS_KM = 6371.0


def _date(text: Any) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d")


def within_30_days(start_date: Any, end_date: Any) -> bool:
    return _date(end_date) - _date(start_date) <= timedelta(days=30)


def is_same_location(first: tuple[float, float], second: tuple[float, float], threshold: float = SAME_PLACE_KM) -> bool:
    """Haversine distance (sphere of radius 6371 km) below ``threshold`` km: upstream's location rule."""
    lat1, lon1 = map(math.radians, first)
    lat2, lon2 = map(math.radians, second)
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return EARTH_RADIUS_KM * 2 * math.atan2(math.sqrt(a), math.sqrt(1 - a)) < threshold


def air_quality_level(index: Any) -> str:
    """Upstream's European AQI bands, with their gaps."""
    if index <= 20:
        return "good"
    if 21 < index <= 40:
        return "fair"
    if 41 < index <= 60:
        return "moderate"
    if 61 < index <= 80:
        return "poor"
    if 81 < index <= 100:
        return "very poor"
    return "extremely poor"


def _strip_noise(response: dict[str, Any]) -> dict[str, Any]:
    for key in NOISE_KEYS:
        response.pop(key, None)
    return response


def _clean_geocoding(response: dict[str, Any]) -> dict[str, Any]:
    for item in response["results"]:
        for key in ("elevation", "feature_code"):
            item.pop(key, None)
        if "country_code" in item:
            item.pop("country")
        for key in ("country_id", "admin1_id", "timezone", "population", "postcodes"):
            item.pop(key, None)
        for key in [k for k in item if k.endswith("id") or "admin" in k]:
            item.pop(key)
    response.pop("generationtime_ms", None)
    return response


def _midday_values(response: dict[str, Any]) -> dict[str, Any]:
    """Hourly air-quality series -> one value per day, the 12:00 GMT hour."""
    hourly = response["hourly"]
    days = len(hourly["time"]) // 24
    return {
        "latitude": response["latitude"],
        "longitude": response["longitude"],
        "daily_units": response["hourly_units"],
        "daily": {
            **hourly,
            "european_aqi_pm2_5": [hourly["european_aqi_pm2_5"][24 * i + 12] for i in range(days)],
            "time": [hourly["time"][24 * i + 12] for i in range(days)],
        },
    }


class WeatherToolset(Toolset):
    """One episode's weather tools; ``current_date``/``current_location`` come from the row."""

    toolset: ClassVar[str] = "weather"
    valid_actions: ClassVar[tuple[str, ...]] = (
        "get_user_current_date",
        "get_user_current_location",
        "get_historical_temp",
        "get_historical_rain",
        "get_historical_snow",
        "get_snow_forecast",
        "get_current_snow",
        "get_current_temp",
        "get_latitude_longitude",
        "get_elevation",
        "get_temp_forecast",
        "get_rain_forecast",
        "get_current_rain",
        "get_distance",
        "get_historical_air_quality_index",
        "get_current_air_quality_index",
        "get_air_quality_level",
        "check_valid_actions",
        "finish",
    )
    first_hint: ClassVar[str] = (
        "Look up a city's coordinates with get_latitude_longitude rather than guessing them. "
        "When the goal is reached, call the finish tool to end the episode."
    )

    def __init__(self, transport: Transport, current_date: str, current_location: str):
        self.transport = transport
        self.current_date = current_date
        self.current_location = current_location

    def tools(self) -> dict[str, Tool]:
        span = ("latitude", "longitude", "start_date", "end_date")
        day = ("latitude", "longitude", "current_date")
        table: dict[str, tuple[tuple[str, ...], Any]] = {
            "get_user_current_date": ((), lambda: (True, self.current_date)),
            "get_user_current_location": ((), lambda: (True, self.current_location)),
            "get_latitude_longitude": (("name",), self.geocode),
            "get_elevation": (("latitude", "longitude"), self.elevation),
            "get_distance": (("latitude1", "longitude1", "latitude2", "longitude2"), self.distance),
            "get_air_quality_level": (("air_quality_index",), self.level),
            "get_historical_air_quality_index": (span, self.historical_air_quality),
            "get_current_air_quality_index": (day, self.current_air_quality),
            "finish": (("answer",), self.finish),
        }
        for kind in ("temp", "rain", "snow"):
            table[f"get_historical_{kind}"] = (span, self._daily(kind, "past"))
            table[f"get_{kind}_forecast"] = (span, self._daily(kind, "future"))
            table[f"get_current_{kind}"] = (day, self._current(kind))
        return {name: Tool(name, params, run) for name, (params, run) in table.items()}

    # ------------------------------------------------------------------ progress matching
    def subgoal(self, result: Any) -> Any:
        result = copy.deepcopy(result)
        if (
            isinstance(result, dict)
            and isinstance(result.get("daily"), dict)
            and TEMPERATURE_KEYS[0] in result["daily"]
        ):
            for key in TEMPERATURE_KEYS:
                result["daily"].pop(key, None)
        return result

    def matches(self, truth: Any, predicted: Any) -> bool:
        if not (isinstance(truth, dict) and "latitude" in truth and "longitude" in truth):
            return super().matches(truth, predicted)
        if not (isinstance(predicted, dict) and "latitude" in predicted and "longitude" in predicted):
            return False
        try:
            here = (float(truth["latitude"]), float(truth["longitude"]))
            there = (float(predicted["latitude"]), float(predicted["longitude"]))
        except (TypeError, ValueError):
            return False
        rest = {k: v for k, v in truth.items() if k not in ("latitude", "longitude")}
        other = {k: v for k, v in predicted.items() if k not in ("latitude", "longitude")}
        return is_same_location(here, there) and super().matches(rest, other)

    # ------------------------------------------------------------------ tools
    def _check_dates(self, start_date: Any, end_date: Any, rule: str | None) -> str | None:
        """Upstream's date rules; an error text, or None when the dates are acceptable."""
        if rule is not None:
            today = _date(self.current_date)
            for label, value in (("start_date", start_date), ("end_date", end_date)):
                if value is None:
                    continue
                if rule == "past" and _date(value) >= today:
                    return f"Error: {label} should be earlier than current_date"
                if rule == "future" and _date(value) <= today:
                    return f"Error: {label} should be later than current_date"
        if not within_30_days(start_date, end_date):
            return SPAN_ERROR
        return None

    def _archive(self, kind: str, latitude: Any, longitude: Any, start_date: Any, end_date: Any) -> tuple[bool, Any]:
        params = {
            "latitude": latitude,
            "longitude": longitude,
            "start_date": start_date,
            "end_date": end_date,
            "timezone": "GMT",
            "daily": DAILY[kind],
        }
        response = self.transport.get(URLS["archive"], params)
        if response.status != 200:
            return False, response.body
        return True, _strip_noise(copy.deepcopy(response.body))

    def _daily(self, kind: str, rule: str):
        def run(latitude: Any, longitude: Any, start_date: Any, end_date: Any) -> tuple[bool, Any]:
            error = self._check_dates(start_date, end_date, rule)
            if error is not None:
                return False, error
            return self._archive(kind, latitude, longitude, start_date, end_date)

        return run

    def _current(self, kind: str):
        def run(latitude: Any, longitude: Any, current_date: Any) -> tuple[bool, Any]:
            error = self._check_dates(current_date, current_date, None)
            if error is not None:
                return False, error
            return self._archive(kind, latitude, longitude, current_date, current_date)

        return run

    def historical_air_quality(self, latitude: Any, longitude: Any, start_date: Any, end_date: Any) -> tuple[bool, Any]:
        return self.air_quality(latitude, longitude, start_date, end_date, "past")

    def current_air_quality(self, latitude: Any, longitude: Any, current_date: Any) -> tuple[bool, Any]:
        return self.air_quality(latitude, longitude, current_date, current_date, None)

    def level(self, air_quality_index: Any) -> tuple[bool, Any]:
        return True, air_quality_level(air_quality_index)

    def air_quality(
        self, latitude: Any, longitude: Any, start_date: Any, end_date: Any, rule: str | None
    ) -> tuple[bool, Any]:
        error = self._check_dates(start_date, end_date, rule)
        if error is not None:
            return False, error
        params = {
            "latitude": latitude,
            "longitude": longitude,
            "start_date": start_date,
            "end_date": end_date,
            "timezone": "GMT",
            "hourly": "european_aqi_pm2_5",
        }
        response = self.transport.get(URLS["air_quality"], params)
        if response.status != 200:
            return False, response.body
        return True, _midday_values(_strip_noise(copy.deepcopy(response.body)))

    def geocode(self, name: Any) -> tuple[bool, Any]:
        params = {"name": name, "count": 3, "language": "en", "format": "json"}
        response = self.transport.get(URLS["geocoding"], params)
        if response.status != 200:
            return False, response.body
        return True, _clean_geocoding(copy.deepcopy(response.body))

    def elevation(self, latitude: Any, longitude: Any) -> tuple[bool, Any]:
        response = self.transport.get(URLS["elevation"], {"latitude": latitude, "longitude": longitude})
        if response.status != 200:
            return False, response.body
        return True, copy.deepcopy(response.body)

    def distance(self, latitude1: Any, longitude1: Any, latitude2: Any, longitude2: Any) -> tuple[bool, Any]:
        from geopy.distance import geodesic

        return True, geodesic((latitude1, longitude1), (latitude2, longitude2)).km
