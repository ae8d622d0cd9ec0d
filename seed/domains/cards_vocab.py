"""The vocabulary of an invented trading-card game: sets, rarities, names, rules text.

Names combine a few hundred parts so that a catalog of thousands has near-duplicates
worth fuzzy searching ("Emberclaw Drake" / "Emberclaw Drakeling"), shared words across
sets, and descriptions with the game's keywords for full text.
"""

from __future__ import annotations

# (set name, code, release date)
SETS = [
    ("Ember Dominion", "EMD", "2024-02-09"),
    ("Tidecaller Saga", "TCS", "2024-05-17"),
    ("Shattered Crowns", "SHC", "2024-08-23"),
    ("Veilwood Chronicles", "VWC", "2024-11-15"),
    ("Iron Covenant", "IRC", "2025-02-21"),
    ("Starfall Reaches", "SFR", "2025-05-30"),
    ("Ashen Requiem", "ASR", "2025-08-29"),
    ("Gilded Tempest", "GDT", "2025-11-14"),
]
# rarity -> (weight, price range USD)
RARITIES = {
    "Common": (55, (0.05, 0.5)),
    "Uncommon": (25, (0.25, 2.0)),
    "Rare": (13, (1.5, 15.0)),
    "Epic": (5, (8.0, 60.0)),
    "Mythic": (2, (30.0, 450.0)),
}
TYPES = ["Creature", "Spell", "Artifact", "Enchantment", "Land", "Hero", "Relic"]
TYPE_WEIGHTS = [45, 22, 10, 9, 6, 5, 3]
PREFIXES = [
    "Ember",
    "Ash",
    "Storm",
    "Tide",
    "Iron",
    "Gilded",
    "Shadow",
    "Thorn",
    "Frost",
    "Sun",
    "Moon",
    "Star",
    "Veil",
    "Bone",
    "Blood",
    "Stone",
    "Wild",
    "Rune",
    "Void",
    "Dawn",
    "Dusk",
    "Ember",
    "Glimmer",
    "Hollow",
    "Crimson",
    "Silver",
    "Obsidian",
    "Verdant",
]
CORES = [
    "claw",
    "fang",
    "wing",
    "heart",
    "forge",
    "song",
    "shard",
    "born",
    "bound",
    "caller",
    "weaver",
    "warden",
    "reaver",
    "seer",
    "blade",
    "mane",
    "scale",
    "root",
    "spire",
    "veil",
]
CREATURES = [
    "Drake",
    "Drakeling",
    "Wyrm",
    "Golem",
    "Sentinel",
    "Witch",
    "Knight",
    "Leviathan",
    "Phoenix",
    "Serpent",
    "Colossus",
    "Sprite",
    "Behemoth",
    "Lich",
    "Hydra",
    "Griffin",
    "Wolf",
    "Stag",
    "Oracle",
    "Templar",
    "Shaman",
    "Revenant",
    "Kraken",
    "Titan",
]
THINGS = {
    "Spell": ["Bolt", "Rebuke", "Inferno", "Tempest", "Ritual", "Edict", "Surge", "Ward"],
    "Artifact": ["Compass", "Idol", "Lantern", "Engine", "Crown", "Chalice", "Gauntlet"],
    "Enchantment": ["Pact", "Oath", "Aura", "Blessing", "Curse", "Dominion", "Vigil"],
    "Land": ["Grove", "Citadel", "Marsh", "Peaks", "Harbor", "Ruins", "Expanse"],
    "Hero": ["Archmage", "Warlord", "Ranger", "Paladin", "Duelist", "Sovereign"],
    "Relic": ["Reliquary", "Codex", "Sigil", "Monolith", "Totem"],
}
TITLES = [
    "of the Hollow Vale",
    "of Ninefold Tides",
    "the Unbroken",
    "of Ashen Skies",
    "the Everburning",
    "of the Last Crown",
    "the Forsworn",
    "of Veilwood",
]
KEYWORDS = [
    "Flying",
    "Trample",
    "Vigilance",
    "Deathtouch",
    "Lifelink",
    "Haste",
    "Ward 2",
    "Reach",
    "First strike",
    "Menace",
    "Stealth",
    "Regenerate",
]
EFFECTS = [
    "When {name} enters play, deal {n} damage to any target.",
    "When {name} enters play, draw a card.",
    "At the beginning of your upkeep, gain {n} life.",
    "Whenever another creature you control dies, put a +1/+1 counter on {name}.",
    "Return target creature card from your graveyard to your hand.",
    "Counter target spell unless its controller pays {n}.",
    "Destroy target artifact or enchantment.",
    "Creatures you control get +{n}/+0 until end of turn.",
    "Search your library for a land card, reveal it and put it into your hand.",
    "Tap target creature. It doesn't untap during its controller's next untap step.",
    "Exile the top {n} cards of your library. You may play them this turn.",
    "Scry {n}, then draw a card.",
]
FLAVOR = [
    "The forge remembers every blade it ever made.",
    "Tides answer to no crown.",
    "Where the veil thins, the old songs return.",
    "Ash falls like snow on the broken kings.",
    "Stars do not fall. They are thrown.",
    "Every root drinks from the same dark water.",
]
LOCATIONS = ["STORE-NYC", "STORE-SEA", "STORE-AUS", "WH-EAST", "WH-WEST"]
PAYMENT_METHODS = ["card", "card", "card", "paypal", "apple_pay", "google_pay"]
