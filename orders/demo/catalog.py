"""What every demo store sells and charges: its catalog, shipping methods and tax rates.

Every string here goes into COPY text as is, so none may hold a tab, newline or backslash.
"""

# (product, SKU stem, [(variant, SKU suffix, price, stock or None when not tracked)])
CATALOG = [
    (
        "Ceramic Mug",
        "MUG",
        [
            ("Ocean Blue", "OCEAN", "24.00", 100),
            ("Forest Green", "FOREST", "24.00", 80),
            ("Sand", "SAND", "24.00", 65),
        ],
    ),
    (
        "Stoneware Dinner Plate",
        "PLATE",
        [("Set of 4", "SET4", "48.00", 40), ("Set of 8", "SET8", "89.00", 25)],
    ),
    ("Linen Apron", "APRON", [("Natural", "NAT", "32.00", 120), ("Charcoal", "CHAR", "32.00", 90)]),
    (
        "Cast Iron Skillet",
        "SKILLET",
        [("10 inch", "10", "45.00", 60), ("12 inch", "12", "59.00", 45)],
    ),
    ("Pour-Over Coffee Set", "POUR", [("Glass", "GLASS", "39.50", 70)]),
    (
        "Organic Coffee Beans",
        "BEANS",
        [("250 g", "250", "14.50", 400), ("1 kg", "1000", "42.00", 150)],
    ),
    ("Teak Cutting Board", "BOARD", [("Small", "S", "28.00", 75), ("Large", "L", "46.00", 50)]),
    ("Glass Carafe", "CARAFE", [("1 litre", "1L", "22.00", 110)]),
    (
        "Wool Throw Blanket",
        "THROW",
        [("Grey", "GREY", "89.00", 30), ("Mustard", "MUSTARD", "89.00", 20)],
    ),
    ("Beeswax Candles", "CANDLE", [("Set of 2", "SET2", "18.00", 300)]),
    ("Enamel Dutch Oven", "DUTCH", [("5.5 qt", "55", "129.00", 15)]),
    ("Gift Card", "GIFT", [("$25", "25", "25.00", None), ("$50", "50", "50.00", None)]),
    ("Seasonal Recipes E-Book", "EBOOK", [("PDF", "PDF", "9.99", None)]),
]

# (code, name, price, requires_shipping, share of orders)
SHIPPING_METHODS = [
    ("standard", "Standard shipping", "5.99", True, 0.66),
    ("express", "Express shipping", "14.99", True, 0.20),
    ("pickup", "Pick up in store", "0.00", False, 0.14),
]

# (country code, province or "" for the whole country, rate)
TAX_RATES = [
    ("US", "OR", "0.11"),
    ("US", "CA", "0.0725"),
    ("US", "NY", "0.04"),
    ("US", "TX", "0.0625"),
    ("US", "WA", "0.065"),
    ("US", "IL", "0.0625"),
    ("US", "FL", "0.06"),
    ("CA", "", "0.05"),
    ("CA", "ON", "0.13"),
    ("CA", "BC", "0.12"),
    ("MX", "", "0.16"),
    ("CO", "", "0.19"),
    ("GB", "", "0.20"),
    ("DE", "", "0.19"),
]
