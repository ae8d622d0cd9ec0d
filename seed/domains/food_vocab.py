"""Cuisines, restaurant names, menus and review phrases for bellyfed."""

from __future__ import annotations

# cuisine -> (name patterns, {section: [(dish, base price)]})
CUISINES: dict[str, tuple[list[str], dict[str, list[tuple[str, float]]]]] = {
    "Japanese": (
        ["{w} Ramen House", "Sushi {w}", "Izakaya {w}", "{w} Udon Bar"],
        {
            "Starters": [("Edamame", 6), ("Gyoza", 9), ("Agedashi Tofu", 8), ("Takoyaki", 9)],
            "Mains": [
                ("Tonkotsu Ramen", 17),
                ("Shoyu Ramen", 16),
                ("Chirashi Bowl", 24),
                ("Chicken Katsu Curry", 18),
                ("Salmon Nigiri Set", 26),
            ],
            "Desserts": [("Matcha Ice Cream", 7), ("Mochi Trio", 8)],
        },
    ),
    "Italian": (
        ["Trattoria {w}", "{w} Osteria", "Pasta {w}", "Pizzeria {w}"],
        {
            "Starters": [("Burrata", 14), ("Arancini", 11), ("Bruschetta", 9)],
            "Mains": [
                ("Cacio e Pepe", 19),
                ("Margherita Pizza", 16),
                ("Lasagne al Forno", 21),
                ("Risotto ai Funghi", 22),
                ("Osso Buco", 34),
            ],
            "Desserts": [("Tiramisu", 9), ("Panna Cotta", 8)],
        },
    ),
    "Mexican": (
        ["Taqueria {w}", "{w} Cantina", "Casa {w}"],
        {
            "Starters": [("Guacamole & Chips", 10), ("Elote", 7), ("Queso Fundido", 11)],
            "Mains": [
                ("Tacos al Pastor", 14),
                ("Carnitas Burrito", 15),
                ("Mole Enchiladas", 18),
                ("Birria Tacos", 16),
            ],
            "Desserts": [("Churros", 8), ("Tres Leches", 9)],
        },
    ),
    "Indian": (
        ["{w} Tandoor", "Spice {w}", "{w} Curry House"],
        {
            "Starters": [("Samosa Chaat", 9), ("Onion Bhaji", 8), ("Paneer Tikka", 12)],
            "Mains": [
                ("Butter Chicken", 19),
                ("Lamb Rogan Josh", 22),
                ("Chana Masala", 15),
                ("Palak Paneer", 16),
                ("Chicken Biryani", 20),
            ],
            "Desserts": [("Gulab Jamun", 7), ("Mango Kulfi", 7)],
        },
    ),
    "Thai": (
        ["{w} Thai Kitchen", "Baan {w}", "{w} Noodle Bar"],
        {
            "Starters": [("Fresh Spring Rolls", 8), ("Satay Skewers", 10), ("Tom Yum Soup", 9)],
            "Mains": [("Pad Thai", 15), ("Green Curry", 16), ("Khao Soi", 17), ("Pad See Ew", 15)],
            "Desserts": [("Mango Sticky Rice", 9)],
        },
    ),
    "Korean": (
        ["{w} BBQ", "Seoul {w}", "{w} Pocha"],
        {
            "Starters": [("Kimchi Pancake", 12), ("Tteokbokki", 11)],
            "Mains": [
                ("Bibimbap", 17),
                ("Galbi", 32),
                ("Kimchi Jjigae", 16),
                ("Fried Chicken", 19),
            ],
            "Desserts": [("Bingsu", 11)],
        },
    ),
    "American": (
        ["{w} Diner", "The {w} Grill", "{w} Burger Co."],
        {
            "Starters": [("Buffalo Wings", 13), ("Loaded Fries", 10), ("Mac & Cheese Bites", 9)],
            "Mains": [
                ("Smash Burger", 15),
                ("BBQ Brisket Plate", 24),
                ("Fried Chicken Sandwich", 14),
                ("Cobb Salad", 14),
            ],
            "Desserts": [("Apple Pie", 8), ("Milkshake", 7)],
        },
    ),
    "French": (
        ["Bistro {w}", "Café {w}", "Brasserie {w}"],
        {
            "Starters": [("French Onion Soup", 12), ("Escargots", 15), ("Pâté de Campagne", 13)],
            "Mains": [
                ("Steak Frites", 32),
                ("Coq au Vin", 28),
                ("Moules Marinières", 26),
                ("Croque Monsieur", 16),
            ],
            "Desserts": [("Crème Brûlée", 10), ("Tarte Tatin", 11)],
        },
    ),
    "Vietnamese": (
        ["Pho {w}", "{w} Banh Mi", "Saigon {w}"],
        {
            "Starters": [("Summer Rolls", 8), ("Crispy Imperial Rolls", 9)],
            "Mains": [("Pho Bo", 15), ("Bun Cha", 16), ("Banh Mi Thit", 11), ("Com Tam", 15)],
            "Desserts": [("Che Ba Mau", 7)],
        },
    ),
    "Mediterranean": (
        ["{w} Mezze", "Olive & {w}", "{w} Taverna"],
        {
            "Starters": [("Hummus", 9), ("Falafel", 10), ("Halloumi Fries", 11)],
            "Mains": [("Lamb Shawarma Plate", 21), ("Chicken Souvlaki", 19), ("Moussaka", 20)],
            "Desserts": [("Baklava", 8)],
        },
    ),
}
NAME_WORDS = [
    "Golden",
    "Little",
    "Blue Door",
    "Corner",
    "Harbor",
    "Lantern",
    "Willow",
    "Saffron",
    "Copper",
    "Maple",
    "Juniper",
    "Ember",
    "Union",
    "Kin",
    "Lotus",
    "Fig",
    "Oak",
    "Moon",
    "River",
    "Sparrow",
    "Bamboo",
    "Cedar",
    "Velvet",
]
DIETARY = ["vegetarian", "vegan", "gluten-free", "dairy-free", "spicy", "halal", "nut-free"]
CATEGORY_KINDS = {
    "dietary": ["Vegetarian", "Vegan", "Gluten-Free", "Halal"],
    "dish": ["Ramen", "Pizza", "Tacos", "Burgers", "Curry", "Noodles", "Dumplings", "BBQ"],
    "ambience": ["Date Night", "Family Friendly", "Late Night", "Outdoor Seating"],
    "feature": ["Takeout", "Delivery", "Reservations", "Happy Hour"],
}
CITIES = [
    "New York",
    "San Francisco",
    "Chicago",
    "Austin",
    "Seattle",
    "Los Angeles",
    "Portland",
    "Boston",
    "Denver",
    "Miami",
]
# city -> (region, lat, lon) for the cities above (real coordinates of their centres)
CITY_GEO = {
    "New York": ("NY", 40.7128, -74.0060),
    "San Francisco": ("CA", 37.7749, -122.4194),
    "Chicago": ("IL", 41.8781, -87.6298),
    "Austin": ("TX", 30.2672, -97.7431),
    "Seattle": ("WA", 47.6062, -122.3321),
    "Los Angeles": ("CA", 34.0522, -118.2437),
    "Portland": ("OR", 45.5152, -122.6784),
    "Boston": ("MA", 42.3601, -71.0589),
    "Denver": ("CO", 39.7392, -104.9903),
    "Miami": ("FL", 25.7617, -80.1918),
}
REVIEW_OPENERS = {
    5: ["Absolutely loved it.", "Best meal I've had this year.", "Outstanding."],
    4: ["Really good.", "Solid spot, will be back.", "Great food, slow service."],
    3: ["Decent but not memorable.", "Mixed feelings.", "Okay for the price."],
    2: ["Disappointing.", "Not what I expected.", "Overpriced for what it is."],
    1: ["Would not return.", "Terrible experience.", "Cold food, rude staff."],
}
REVIEW_DETAILS = [
    "The {dish} was the highlight.",
    "Try the {dish}.",
    "The {dish} could use more seasoning.",
    "Portions of {dish} were generous.",
    "Skip the {dish}.",
]
