"""Word lists harvested once from faker's locale data, then drawn with a seeded RNG.

Calling faker per value costs ~250 µs (its provider dispatch and templates); a choice
from a list costs ~1 µs. So faker is used as a *data source*: its en_US person names,
street suffixes, lorem words and its table of real places (latitude, longitude, place
name, country, time zone) are read from the provider classes at import, and every
generator draws from these lists with its own ``random.Random``. faker is pinned, so the
lists — and the seeded data — are the same on every machine.
"""

from __future__ import annotations

from typing import NamedTuple

from faker.providers.address import en_US as _address
from faker.providers.geo import Provider as _Geo
from faker.providers.lorem import en_US as _lorem
from faker.providers.person import en_US as _person


class Place(NamedTuple):
    city: str
    region: str
    country: str
    lat: float
    lon: float
    timezone: str


FIRST_NAMES: list[str] = sorted(set(_person.Provider.first_names))
LAST_NAMES: list[str] = sorted(set(_person.Provider.last_names))
STREET_SUFFIXES: list[str] = sorted(set(_address.Provider.street_suffixes))
STREET_NAMES: list[str] = LAST_NAMES  # faker builds street names from surnames too
WORDS: list[str] = sorted(set(_lorem.Provider.word_list))
US_STATES: list[str] = list(_address.Provider.states_abbr)
PLACES: list[Place] = [
    Place(name, "", cc, float(lat), float(lon), tz) for lat, lon, name, cc, tz in _Geo.land_coords
]
US_PLACES: list[Place] = [p for p in PLACES if p.country == "US"]
EMAIL_DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com"]
COLORS = ["black", "white", "red", "navy", "green", "grey", "blue", "olive", "sand"]
USER_AGENTS: list[str] = [
    f"Mozilla/5.0 ({os_}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0 Safari/537.36"
    for os_ in (
        "Windows NT 10.0; Win64; x64",
        "Macintosh; Intel Mac OS X 14_5",
        "X11; Linux x86_64",
    )
    for v in (124, 126, 128)
]
