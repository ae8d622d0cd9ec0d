"""Domain generators: realism per known system; any other system gets generic data."""

from __future__ import annotations

import importlib

from seed.domains.base import Domain

# system name -> module defining ``DOMAIN`` (a Domain subclass)
DOMAINS = {
    "tcgstore": "seed.domains.tcgstore",
    "bellyfed": "seed.domains.bellyfed",
    "order-processor": "seed.domains.order_processor",
    "inventory": "seed.domains.inventory",
    "ecommerce": "seed.domains.ecommerce",
}


def domain_for(system: str) -> type[Domain]:
    module = DOMAINS.get(system)
    if module is None:
        return Domain
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError:
        return Domain
    return mod.DOMAIN  # type: ignore[no-any-return]
