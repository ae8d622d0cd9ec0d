"""bellyfed (seed 001): restaurants in real cities, menus, rankings and reviews over time.

Restaurants get a cuisine, a name in that cuisine's style, coordinates near their city's
centre and a menu from the cuisine's dishes; categories cover cuisines, dietary needs,
dishes, ambience and features. Users review restaurants over the seeded history (the
review text names real dishes of that menu), rank their favourites (ranks 1..n per
user, optionally scoped to a category) and favourite some. ``restaurants.avg_rating``
and ``review_count`` are computed from the reviews — an invariant ``--verify`` checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from seed import values
from seed.domains import food_vocab as F
from seed.domains.base import Domain, Row
from seed.rng import stable_uuid, stream

RESTAURANTS_PER_SCALE = 60
USERS_PER_SCALE = 80


class Bellyfed(Domain):
    def _roles(self) -> dict[str, tuple[str, str]]:
        out: dict[str, tuple[str, str]] = {}
        for key, spec in self.plan.specs.items():
            cols = set(spec.columns)
            if {"restaurant_id", "cuisine", "city", "slug"} <= cols:
                out["restaurants"] = key
            elif {"item_id", "restaurant_id", "price", "section"} <= cols:
                out["menu"] = key
            elif {"category_id", "kind", "slug"} <= cols:
                out["categories"] = key
            elif {"restaurant_id", "category_id"} == cols - {"created_at"}:
                out["restaurant_categories"] = key
            elif {"user_id", "email", "username"} <= cols:
                out["users"] = key
            elif {"review_id", "restaurant_id", "user_id", "rating"} <= cols:
                out["reviews"] = key
            elif {"ranking_id", "user_id", "restaurant_id", "rank"} <= cols:
                out["rankings"] = key
            elif {"user_id", "restaurant_id"} == cols - {"created_at"}:
                out["favorites"] = key
        return out

    def _world(self) -> dict[str, list[Row]]:
        if hasattr(self, "_w"):
            return self._w
        seed, clock, scale = self.plan.seed, self.plan.clock, self.scale
        rng = stream(seed, "bellyfed", "world")
        cats: list[Row] = []
        cuisine_cat: dict[str, Any] = {}
        for kind, names in [("cuisine", list(F.CUISINES)), *F.CATEGORY_KINDS.items()]:
            for name in names:
                cid = stable_uuid(seed, "category", kind, name)
                cats.append(
                    {
                        "category_id": cid,
                        "kind": kind,
                        "name": name,
                        "slug": values.slugify(name),
                        "description": f"{name} ({kind})",
                    }
                )
                if kind == "cuisine":
                    cuisine_cat[name] = cid
        restaurants: list[Row] = []
        menus: list[Row] = []
        rcats: list[Row] = []
        slugs: set[str] = set()
        for n in range(RESTAURANTS_PER_SCALE * scale):
            cuisine = rng.choice(sorted(F.CUISINES))
            patterns, sections = F.CUISINES[cuisine]
            city = F.CITIES[n % len(F.CITIES)]
            region, lat, lon = F.CITY_GEO[city]
            name = rng.choice(patterns).format(w=rng.choice(F.NAME_WORDS))
            slug = values.slugify(f"{name} {city}")
            if slug in slugs:
                slug = f"{slug}-{n}"
            slugs.add(slug)
            rid = stable_uuid(seed, "restaurant", n)
            signature = ", ".join(d for d, _ in rng.sample(sections["Mains"], 2))
            restaurants.append(
                {
                    "restaurant_id": rid,
                    "name": name,
                    "slug": slug,
                    "cuisine": cuisine,
                    "description": f"{cuisine} cooking in {city}: {signature}.",
                    "city": city,
                    "region": region,
                    "country_code": "US",
                    "address_line1": values.street(rng),
                    "latitude": Decimal(str(round(lat + rng.uniform(-0.08, 0.08), 6))),
                    "longitude": Decimal(str(round(lon + rng.uniform(-0.08, 0.08), 6))),
                    "phone": values.phone(rng),
                    "website_url": f"https://{slug}.example.com",
                    "price_range": rng.choices([1, 2, 3, 4], [20, 45, 25, 10])[0],
                    "is_active": True,
                    "created_at": clock.start,
                }
            )
            pos = 0
            for section, dishes in sections.items():
                for dish, price in dishes:
                    if rng.random() < 0.85:
                        pos += 1
                        menus.append(
                            {
                                "item_id": stable_uuid(seed, "menu", n, dish),
                                "restaurant_id": rid,
                                "name": dish,
                                "section": section,
                                "position": pos,
                                "description": f"House {dish.lower()}.",
                                "price": Decimal(str(round(price * rng.uniform(0.85, 1.3), 2))),
                                "currency": "USD",
                                "is_available": rng.random() < 0.95,
                                "dietary_tags": sorted(rng.sample(F.DIETARY, rng.randint(0, 2))),
                            }
                        )
            rcats.append({"restaurant_id": rid, "category_id": cuisine_cat[cuisine]})
            for c in rng.sample([c for c in cats if c["kind"] != "cuisine"], 2):
                rcats.append({"restaurant_id": rid, "category_id": c["category_id"]})
        users: list[Row] = []
        for n in range(USERS_PER_SCALE * scale):
            first, last = values.person(rng)
            handle = f"{values.slugify(first)}{values.slugify(last)[:1]}{n}"
            users.append(
                {
                    "user_id": stable_uuid(seed, "user", n),
                    "email": values.email(rng, first, last, n).lower(),
                    "username": handle[:50],
                    "display_name": f"{first} {last[0]}.",
                    "home_city": F.CITIES[rng.randrange(len(F.CITIES))],
                    "preferences": {"cuisines": rng.sample(sorted(F.CUISINES), 2)},
                    "is_active": True,
                    "created_at": clock.between(rng, clock.start, clock.now),
                }
            )
        reviews: list[Row] = []
        rankings: list[Row] = []
        favorites: list[Row] = []
        menu_of: dict[Any, list[str]] = {}
        for m in menus:
            menu_of.setdefault(m["restaurant_id"], []).append(m["name"])
        for u in users:
            local = [r for r in restaurants if r["city"] == u["home_city"]] or restaurants
            visited = rng.sample(local, min(len(local), rng.randint(1, 6)))
            for r in visited:
                rating = rng.choices([5, 4, 3, 2, 1], [35, 35, 15, 10, 5])[0]
                at = clock.after(rng, max(u["created_at"], r["created_at"]), 300)
                dish = rng.choice(menu_of.get(r["restaurant_id"], ["food"]))
                reviews.append(
                    {
                        "review_id": stable_uuid(
                            seed, "review", str(u["user_id"]), str(r["restaurant_id"])
                        ),
                        "restaurant_id": r["restaurant_id"],
                        "user_id": u["user_id"],
                        "rating": rating,
                        "title": rng.choice(F.REVIEW_OPENERS[rating]),
                        "body": rng.choice(F.REVIEW_OPENERS[rating])
                        + " "
                        + rng.choice(F.REVIEW_DETAILS).format(dish=dish),
                        "visited_on": at.date(),
                        "created_at": at,
                        "updated_at": at,
                    }
                )
            for rank, r in enumerate(sorted(visited, key=lambda x: str(x["restaurant_id"])), 1):
                rankings.append(
                    {
                        "user_id": u["user_id"],
                        "ranking_id": stable_uuid(seed, "rank", str(u["user_id"]), rank),
                        "restaurant_id": r["restaurant_id"],
                        "rank": rank,
                        "category_id": None,
                        "notes": None,
                    }
                )
            for r in visited[: rng.randint(0, 2)]:
                favorites.append({"user_id": u["user_id"], "restaurant_id": r["restaurant_id"]})
        by_r: dict[Any, list[int]] = {}
        for rv in reviews:
            by_r.setdefault(rv["restaurant_id"], []).append(rv["rating"])
        for r in restaurants:
            ratings = by_r.get(r["restaurant_id"], [])
            r["review_count"] = len(ratings)
            r["avg_rating"] = (
                (Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01"))
                if ratings
                else None
            )
            r["updated_at"] = clock.now
        self._w = {
            "restaurants": restaurants,
            "menu": menus,
            "categories": cats,
            "restaurant_categories": rcats,
            "users": users,
            "reviews": reviews,
            "rankings": rankings,
            "favorites": favorites,
        }
        return self._w

    def partial_rows(self, store: str, table: str) -> list[Row] | None:
        for role, key in self._roles().items():
            if key == (store, table):
                return self._world()[role]
        return None

    def check(self, reader: Any) -> Iterator[str]:
        roles = self._roles()
        if "restaurants" not in roles or "reviews" not in roles:
            return
        (store, rest), (_, rev) = roles["restaurants"], roles["reviews"]
        rows = reader.sql(
            store,
            f"SELECT r.restaurant_id, r.review_count, r.avg_rating, "
            f"count(v.review_id), round(avg(v.rating), 2) FROM {rest} r "
            f"LEFT JOIN {rev} v USING (restaurant_id) GROUP BY 1, 2, 3",
        )
        for rid, count, avg, real_count, real_avg in rows:
            if count != real_count or avg != real_avg:
                yield (
                    f"bellyfed: restaurant {rid}: review_count/avg_rating {count}/{avg} != "
                    f"its reviews {real_count}/{real_avg}"
                )
                return


DOMAIN = Bellyfed
