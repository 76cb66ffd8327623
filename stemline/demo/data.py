"""The demo wholesaler: a Miami importer's locations, people, catalog, growers, carriers and
customers, as plain data that `seed_demo` writes."""

from decimal import Decimal

COMPANY_NAME = "Sunrise Floral Imports"
DEMO_DOMAIN = "sunrisefloral.example"
# One password for every demo login; the demo is for trying things, never for real data.
DEMO_PASSWORD = "sunrise-demo-2026"
DEMO_TOKEN_DESCRIPTION = "Demo Company token"

# (name, short name, code, address, city, state); the first is the default location.
LOCATIONS = [
    ("Doral Warehouse", "Doral", "DRL", "8250 NW 25th St", "Doral", "FL"),
    ("Medley Cooler", "Medley", "MDL", "10301 NW 108th Ave", "Medley", "FL"),
]

# (login name, role, first name, last name)
USERS = [
    ("admin", "admin", "Maria", "Gonzalez"),
    ("setup", "setup", "Daniel", "Restrepo"),
    ("sales", "sales", "Carla", "Mendez"),
    ("purchasing", "purchasing", "Luis", "Andrade"),
    ("accounting", "accounting", "Elena", "Vargas"),
]


def login(name: str) -> str:
    return f"{name}@{DEMO_DOMAIN}"


# A grower's Vendor Portal login: (login, vendor code, first name, last name). It signs in with
# the same password and sees the purchase orders the demo sends that farm.
PORTAL_USERS = [("grower@sabana.example", "SABANA", "Camila", "Rojas")]
# The demo's purchase orders to Flores de la Sabana: (days until shipping, product code, boxes).
PURCHASE_ORDERS = [(2, [("RFRE50", 6), ("RFRE60", 4)]), (5, [("RMON50", 8)])]


# Catalog: category -> how its products are described and sold, and the products as
# (code stem, variety, color, grades, regions of origin), one product per grade.
ROSE_GRADES = ["40cm", "50cm", "60cm", "70cm"]
CARNATION_GRADES = ["Fancy", "Select"]

CATALOG = {
    "Roses": {
        "description": "Rose {variety} {color} {grade}",
        "unit": "Stem",
        "products": [
            ("FRE", "Freedom", "Red", ROSE_GRADES, ["Ecuador", "Colombia"]),
            ("EXP", "Explorer", "Red", ROSE_GRADES, ["Ecuador"]),
            ("MON", "Mondial", "White", ROSE_GRADES, ["Ecuador"]),
            ("VEN", "Vendela", "Cream", ROSE_GRADES, ["Ecuador", "Colombia"]),
            ("PLB", "Playa Blanca", "White", ROSE_GRADES, ["Ecuador"]),
            ("PFL", "Pink Floyd", "Hot Pink", ROSE_GRADES, ["Ecuador"]),
            ("CBL", "Country Blues", "Lavender", ROSE_GRADES, ["Ecuador"]),
            ("DPU", "Deep Purple", "Purple", ROSE_GRADES, ["Ecuador"]),
            ("BRI", "Brighton", "Yellow", ROSE_GRADES, ["Colombia"]),
            ("NIN", "Nina", "Pink", ROSE_GRADES, ["Colombia"]),
        ],
    },
    "Carnations": {
        "description": "Carnation {variety} {color} {grade}",
        "unit": "Stem",
        "products": [
            ("MOO", "Moonlight", "White", CARNATION_GRADES, ["Colombia"]),
            ("DPE", "Don Pedro", "Red", CARNATION_GRADES, ["Colombia"]),
            ("HOR", "Hermes Orange", "Orange", CARNATION_GRADES, ["Colombia"]),
            ("NOB", "Nobbio Burgundy", "Burgundy", CARNATION_GRADES, ["Colombia"]),
            ("LEP", "Lege Pink", "Light Pink", CARNATION_GRADES, ["Colombia"]),
        ],
    },
    "Hydrangeas": {
        "description": "Hydrangea {grade} {color}",
        "unit": "Stem",
        # The trade names a hydrangea by grade and colour ("Select White"), not by variety.
        "products": [
            ("WH", "", "White", ["Select", "Premium", "Jumbo"], ["Colombia"]),
            ("BL", "", "Blue", ["Select", "Premium", "Jumbo"], ["Colombia"]),
            ("AG", "", "Antique Green", ["Select", "Premium"], ["Colombia"]),
            ("PK", "", "Pink", ["Select", "Premium"], ["Colombia"]),
        ],
    },
    "Greens": {
        "description": "{variety}",
        "unit": "Bunch",
        "products": [
            ("LEA", "Leatherleaf", "Green", [""], ["United States", "Costa Rica"]),
            ("RUS", "Italian Ruscus", "Green", [""], ["Israel", "Italy"]),
            ("SAL", "Salal", "Green", [""], ["United States"]),
            ("BBE", "Baby Blue Eucalyptus", "Silver Green", [""], ["United States"]),
            ("SDE", "Silver Dollar Eucalyptus", "Silver Green", [""], ["United States"]),
        ],
    },
}

CODE_PREFIX = {"Roses": "R", "Carnations": "C", "Hydrangeas": "H", "Greens": "G"}
GRADE_CODE = {"Fancy": "F", "Select": "SEL", "Premium": "PRM", "Jumbo": "JUM"}


# Each category's default price per unit at levels A and B.
DEFAULT_PRICES = {
    "Roses": ("0.550", "0.510"),
    "Carnations": ("0.320", "0.300"),
    "Hydrangeas": ("2.400", "2.250"),
    "Greens": ("0.280", "0.260"),
}


def products():
    """Every demo product as a dict of Product fields plus its category name."""
    for category, spec in CATALOG.items():
        for stem, variety, color, grades, regions in spec["products"]:
            for grade in grades:
                suffix = (
                    grade.removesuffix("cm") if grade.endswith("cm") else GRADE_CODE.get(grade, "")
                )
                # "Rose Deep Purple 50cm", not "Rose Deep Purple Purple 50cm".
                shown = "" if set(color.split()) & set(variety.split()) else color
                description = spec["description"].format(variety=variety, color=shown, grade=grade)
                yield {
                    "category": category,
                    "legacy_code": f"{CODE_PREFIX[category]}{stem}{suffix}",
                    "description": " ".join(description.split()),
                    "variety": variety,
                    "color": color,
                    "grade": grade,
                    "default_unit_type": spec["unit"],
                    "regions_of_origin": regions,
                    # Default prices per level (Setup > Products): PO lines take them.
                    "price_a": Decimal(DEFAULT_PRICES[category][0]),
                    "price_b": Decimal(DEFAULT_PRICES[category][1]),
                }


# Growers: (code, name, port of origin, city, country, contact)
VENDORS = [
    ("SABANA", "Flores de la Sabana", "BOG", "Facatativá", "Colombia", "Camila Rojas"),
    ("MADRID", "Rosas de Madrid Cundinamarca", "BOG", "Madrid", "Colombia", "Andrés Gómez"),
    ("ANTIOQ", "Hortensias de Antioquia", "MDE", "La Ceja", "Colombia", "Juliana Restrepo"),
    ("RIONEG", "Claveles del Oriente", "MDE", "Rionegro", "Colombia", "Santiago Mejía"),
    ("CAYAMB", "Hacienda Cayambe Roses", "UIO", "Cayambe", "Ecuador", "Diego Andrade"),
    ("TABACU", "Tabacundo Highland Roses", "UIO", "Tabacundo", "Ecuador", "Gabriela Paredes"),
]

# The hard-goods supplier and what it sells, sold by the unit beside the flowers (issue 14):
# (sku, description, category, subcategory, color, pack size, unit cost, unit price, units).
HARD_GOODS_VENDOR = (
    "FLSUP",
    "Florida Floral Supplies",
    "MIA",
    "Hialeah",
    "United States",
    "Rosa Díaz",
)
HARD_GOODS = [
    ("VAS-CYL-8", 'Cylinder vase 8"', "Glass", "Vases", "Clear", 12, "2.10", "3.95", 240),
    ("VAS-BUB-6", 'Bubble bowl 6"', "Glass", "Vases", "Clear", 6, "2.75", "4.95", 96),
    ("RIB-SAT-15", 'Satin ribbon 1.5" x 50 yd', "Ribbon", "Satin", "Red", 1, "3.40", "6.50", 60),
    ("FOAM-BRK", "Floral foam brick", "Floral foam", "Wet foam", "Green", 48, "0.55", "1.10", 960),
]

# Growers' availability (issue 14): what two growers offer to ship in the coming days, sold
# beside the warehouse's boxes at the company's markup: (vendor code, product legacy code, box
# type, boxes, unit cost, first day from today, last day from today); the product is the n-th
# rose of the catalogue in code order.
OFFERS = [
    ("CAYAMB", 0, "HB", 20, "0.32", 2, 9),
    ("CAYAMB", 1, "HB", 15, "0.34", 2, 9),
    ("TABACU", 2, "QB", 30, "0.30", 3, 10),
]

# Carriers: (code, name, direction, city, state, country, phone)
CARRIERS = [
    ("FDX", "FedEx", "outbound", "Memphis", "TN", "United States", "800-463-3339"),
    ("UPS", "UPS", "outbound", "Atlanta", "GA", "United States", "800-742-5877"),
    ("ARM", "Armellini Express", "outbound", "Palm City", "FL", "United States", ""),
    ("PU", "Customer Pick-Up", "outbound", "Doral", "FL", "United States", ""),
    ("AV", "Avianca Cargo", "inbound", "Bogotá", "", "Colombia", ""),
    ("LA", "LATAM Cargo", "inbound", "Miami", "FL", "United States", ""),
]

# The demo company's additional charges: a fuel surcharge per invoice and a sales tax.
CHARGE_VALUES = {"FS": "12.50", "TAX": "7.00"}
# Customers billed in these states pay sales tax in the demo; every one pays the fuel
# surcharge and is grouped by its state.
TAXED_STATES = {"FL"}
STATE_GROUPS = {"FL": "Florida", "GA": "Georgia", "NY": "New York", "TX": "Texas"}

# Customers: code, name, type (CustomerType name), billing address, terms, ship-tos as
# (name, code, address, city, state, zipcode, carrier code).
CUSTOMERS = [
    {
        "code": "BAYBLO",
        "name": "Bayfront Blooms",
        "type": "FLORIST",
        "bill": ("1420 Biscayne Blvd", "Miami", "FL", "33132"),
        "phone": "305-555-0142",
        "terms": "Net 15",
        "ship_tos": [
            (
                "Bayfront Blooms - Downtown",
                "BB-01",
                "1420 Biscayne Blvd",
                "Miami",
                "FL",
                "33132",
                "PU",
            ),
        ],
    },
    {
        "code": "MAGNOL",
        "name": "Magnolia Flower Studio",
        "type": "FLORIST",
        "bill": ("215 N Orange Ave", "Orlando", "FL", "32801"),
        "phone": "407-555-0118",
        "terms": "Net 15",
        "ship_tos": [
            (
                "Magnolia Flower Studio",
                "MAG-01",
                "215 N Orange Ave",
                "Orlando",
                "FL",
                "32801",
                "ARM",
            ),
        ],
    },
    {
        "code": "PEACHP",
        "name": "Peachtree Petals",
        "type": "FLORIST",
        "bill": ("990 Peachtree St NE", "Atlanta", "GA", "30309"),
        "phone": "404-555-0187",
        "terms": "Net 30",
        "ship_tos": [
            (
                "Peachtree Petals - Midtown",
                "PP-01",
                "990 Peachtree St NE",
                "Atlanta",
                "GA",
                "30309",
                "FDX",
            ),
            (
                "Peachtree Petals - Buckhead",
                "PP-02",
                "3035 Peachtree Rd NE",
                "Atlanta",
                "GA",
                "30305",
                "FDX",
            ),
        ],
    },
    {
        "code": "SUNFRE",
        "name": "Sunshine Fresh Markets",
        "type": "SUPERMARKET",
        "bill": ("4000 NW 36th St", "Miami", "FL", "33166"),
        "phone": "305-555-0100",
        "terms": "Net 30",
        "ship_tos": [
            (
                "Sunshine Fresh DC Hialeah",
                "SF-DC1",
                "7700 W 20th Ave",
                "Hialeah",
                "FL",
                "33016",
                "ARM",
            ),
            ("Sunshine Fresh DC Tampa", "SF-DC2", "5100 E Adamo Dr", "Tampa", "FL", "33619", "ARM"),
        ],
    },
    {
        "code": "BISEVT",
        "name": "Biscayne Events & Weddings",
        "type": "EVENT_PLANNER",
        "bill": ("3250 Grand Ave", "Coconut Grove", "FL", "33133"),
        "phone": "305-555-0163",
        "terms": "Prepaid",
        "ship_tos": [
            (
                "Biscayne Events Studio",
                "BE-01",
                "3250 Grand Ave",
                "Coconut Grove",
                "FL",
                "33133",
                "PU",
            ),
        ],
    },
    # The four marketplaces: each is a customer of the company (see docs/api.md).
    {
        "code": "DWF",
        "name": "DWF Wholesale",
        "type": "MARKETPLACE",
        "bill": ("", "Doral", "FL", ""),
        "phone": "",
        "terms": "Net 30",
        "ship_tos": [("DWF Wholesale - Miami", "DWF-MIA", "", "Doral", "FL", "", "ARM")],
    },
    {
        "code": "FTD",
        "name": "FTD",
        "type": "MARKETPLACE",
        "bill": ("", "Downers Grove", "IL", ""),
        "phone": "",
        "terms": "Net 30",
        "ship_tos": [("FTD Members (drop ship)", "FTD-DS", "", "Downers Grove", "IL", "", "FDX")],
    },
    {
        "code": "BLOOMNET",
        "name": "BloomNet",
        "type": "MARKETPLACE",
        "bill": ("", "Carle Place", "NY", ""),
        "phone": "",
        "terms": "Net 30",
        "ship_tos": [
            ("BloomNet Florists (drop ship)", "BN-DS", "", "Carle Place", "NY", "", "FDX")
        ],
    },
    {
        "code": "IBUY",
        "name": "iBuyFlowers",
        "type": "MARKETPLACE",
        "bill": ("", "Miami", "FL", ""),
        "phone": "",
        "terms": "Net 30",
        "ship_tos": [("iBuyFlowers Buyers (FedEx)", "IBF-FDX", "", "Miami", "FL", "", "FDX")],
    },
]

MARKETPLACES = ["DWF Wholesale", "FTD", "BloomNet", "iBuyFlowers"]
