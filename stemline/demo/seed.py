"""Writes the demo wholesaler of `data.py`, creating only what is missing, so it can run again."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum

from stemline.availability import services as availability
from stemline.availability.models import Offer
from stemline.availability.services import OfferRow
from stemline.catalog.models import BoxType, Category, Product
from stemline.catalog.services import create_standard_box_types
from stemline.channels.models import Channel
from stemline.core.errors import Conflict
from stemline.core.models import STAFF_ROLES, Company, Location, Role, User
from stemline.core.services import create_company, create_user
from stemline.hardgoods import services as hard_goods
from stemline.hardgoods.models import HardGoodProduct
from stemline.inventory import services as stock
from stemline.inventory.models import InventoryLine, Origin
from stemline.inventory.queries import AVAILABLE, future, on_hand
from stemline.parties.models import (
    AdditionalCharge,
    Carrier,
    Customer,
    CustomerType,
    PaymentMethod,
    ShipTo,
    Vendor,
    VendorType,
)
from stemline.purchasing.models import PurchaseOrder
from stemline.purchasing.services import LineSpec, create_order
from stemline.sales import services as sales_services
from stemline.sales.models import Invoice
from stemline.tokens import crypto
from stemline.tokens.models import ApiToken, TokenType
from stemline.tokens.services import all_grants, create_token, reset_token

from . import data, market


@dataclass
class DemoCompany:
    company: Company
    token_id: int
    secret: str
    logins: list[tuple[str, str]]
    created: Counter = field(default_factory=Counter)
    shown: list[tuple[str, int]] = field(default_factory=list)


def _company(created: Counter) -> Company:
    # The demo admin's login identifies the demo company: its name may be taken by a real one.
    admin = (
        User.objects.filter(username__iexact=data.login("admin")).select_related("company").first()
    )
    if admin is not None:
        if admin.company is None:
            raise Conflict(f"{admin.username} exists but belongs to no company", field="email")
        return admin.company
    name, short_name, code, address, city, state = data.LOCATIONS[0]
    company = create_company(
        name=data.COMPANY_NAME, location_name=name, location_code=code, multi_location=True
    )
    # Miami: every "today" and every time shown is Eastern time.
    company.time_zone = "America/New_York"
    company.save(update_fields=["time_zone"])
    Location.objects.filter(company=company, code=code).update(
        short_name=short_name, address=address, city=city, state=state
    )
    # The letterhead of the invoice PDF (Setup > Company).
    Company.objects.filter(pk=company.pk).update(
        address=address,
        city=city,
        state=state,
        zipcode="33122",
        country="USA",
        phone="+1 305 555 0142",
        email=f"sales@{data.DEMO_DOMAIN}",
    )
    created["companies"] += 1
    created["locations"] += 1
    return company


def _locations(company: Company, created: Counter) -> list[Location]:
    locations = []
    for name, short_name, code, address, city, state in data.LOCATIONS:
        location, made = Location.objects.get_or_create(
            company=company,
            code=code,
            defaults={
                "name": name,
                "short_name": short_name,
                "address": address,
                "city": city,
                "state": state,
            },
        )
        created["locations"] += made
        locations.append(location)
    return locations


def _users(company: Company, created: Counter) -> dict[str, User]:
    users = {}
    for name, role, first_name, last_name in data.USERS:
        email = data.login(name)
        user = User.objects.filter(username__iexact=email).first()
        if user is None:
            user = create_user(
                company=company,
                email=email,
                role=role,
                password=data.DEMO_PASSWORD,
                first_name=first_name,
                last_name=last_name,
            )
            if role == "admin":
                user.is_staff = True
                user.save(update_fields=["is_staff"])
            created["users"] += 1
        elif user.company_id != company.pk:
            raise Conflict(f"{email} belongs to another company", field="email")
        users[name] = user
    return users


def _portal_users(company: Company, created: Counter) -> list[tuple[str, str]]:
    logins = []
    for email, vendor_code, first_name, last_name in data.PORTAL_USERS:
        vendor = Vendor.objects.get(company=company, code=vendor_code)
        user = User.objects.filter(username__iexact=email).first()
        if user is None:
            create_user(
                company=company,
                email=email,
                role=Role.VENDOR,
                vendor=vendor,
                password=data.DEMO_PASSWORD,
                first_name=first_name,
                last_name=last_name,
            )
            created["Vendor Portal users"] += 1
        elif user.company_id != company.pk:
            raise Conflict(f"{email} belongs to another company", field="email")
        logins.append((email, f"Vendor Portal, {vendor.name}"))
    return logins


def _purchase_orders(company: Company, created: Counter) -> None:
    """A few purchase orders for the portal's grower to confirm and ship, once."""
    vendor = Vendor.objects.get(company=company, code=data.PORTAL_USERS[0][1])
    if PurchaseOrder.objects.filter(company=company, vendor=vendor).exists():
        return
    box = BoxType.objects.get(company=company, code="HB")
    products = {p.legacy_code: p for p in Product.objects.filter(company=company)}
    carrier = Carrier.objects.filter(company=company, direction="inbound").order_by("id").first()
    today = stock.today()
    for days, lines in data.PURCHASE_ORDERS:
        specs = [
            LineSpec(
                field=f"purchaseOrderItems[{n}]",
                product=products[code],
                box_type=box,
                boxes=boxes,
                unit_type="Stem",
                bunches=10,
                stems_bunch=25,
                unit_cost=Decimal("0.320"),
            )
            for n, (code, boxes) in enumerate(lines)
        ]
        create_order(
            company=company,
            vendor=vendor,
            specs=specs,
            ship_date=today + timedelta(days=days),
            carrier=carrier,
            location=Location.objects.get(company=company, is_default=True),
        )
        created["purchase orders"] += 1


def _catalog(company: Company, created: Counter) -> None:
    create_standard_box_types(company=company)
    categories = {}
    for name in data.CATALOG:
        categories[name], made = Category.objects.get_or_create(company=company, name=name)
        created["categories"] += made
    existing = set(
        Product.objects.filter(company=company)
        .exclude(legacy_code="")
        .values_list("legacy_code", flat=True)
    )
    missing = [
        Product(company=company, category=categories[row.pop("category")], **row)
        for row in data.products()
        if row["legacy_code"] not in existing
    ]
    Product.objects.bulk_create(missing)
    created["products"] += len(missing)


def _vendor(company: Company, row: tuple, created: Counter, **extra) -> Vendor:
    code, name, port, city, country, contact = row
    vendor, made = Vendor.objects.get_or_create(
        company=company,
        code=code,
        defaults={
            "name": name,
            "port_origin": port,
            "city": city,
            "country": country,
            "contact_name": contact,
            "email_for_pos": f"pedidos@{code.lower()}.example",
            **extra,
        },
    )
    created["vendors"] += made
    return vendor


def _vendors(company: Company, created: Counter) -> None:
    for row in data.VENDORS:
        _vendor(company, row, created)


def _hard_goods(company: Company, created: Counter) -> None:
    """A supplier of vases, ribbon and foam, its products in stock at the default location, and
    the shop showing them (Setup > Hard goods)."""
    vendor = _vendor(company, data.HARD_GOODS_VENDOR, created, vendor_type=VendorType.HARD_GOODS)
    location = Location.objects.get(company=company, is_default=True)
    have = set(HardGoodProduct.objects.filter(company=company).values_list("sku", flat=True))
    for sku, description, category, sub, color, pack, cost, price, units in data.HARD_GOODS:
        if sku in have:
            continue
        product = hard_goods.add_product(
            company=company,
            vendor=vendor,
            category=category,
            subcategory=sub,
            description=description,
            sku=sku,
            color=color,
            pack_size=pack,
            unit_cost=Decimal(cost),
            unit_price=Decimal(price),
        )
        hard_goods.add_inventory(
            company=company,
            product_id=product.pk,
            location=location,
            quantity=units,
            unit_cost=Decimal(cost),
        )
        created["hard goods"] += 1
    if not company.hard_goods_in_shop:
        company.hard_goods_in_shop = True
        company.save(update_fields=["hard_goods_in_shop"])


def _offers(company: Company, created: Counter) -> None:
    """Two growers' availability for the coming days (once: a grower with offers is left as
    it is)."""
    roses = list(
        Product.objects.filter(company=company, category__name="Roses").order_by("legacy_code")
    )
    boxes = {b.code: b for b in BoxType.objects.filter(company=company)}
    today = stock.today()
    by_vendor: dict[str, list] = {}
    for code, index, box, count, cost, first, last in data.OFFERS:
        by_vendor.setdefault(code, []).append((index, box, count, cost, first, last))
    for code, rows in by_vendor.items():
        vendor = Vendor.objects.get(company=company, code=code)
        if Offer.objects.filter(company=company, vendor=vendor).exists():
            continue
        availability.offer(
            company=company,
            vendor=vendor,
            rows=[
                OfferRow(
                    line_number=n,
                    product=roses[index],
                    box_type=boxes[box],
                    unit_type=roses[index].default_unit_type or "Stem",
                    bunches=10,
                    stems_bunch=25,
                    boxes=count,
                    unit_cost=Decimal(cost),
                    available_from=today + timedelta(days=first),
                    available_to=today + timedelta(days=last),
                )
                for n, (index, box, count, cost, first, last) in enumerate(rows, start=1)
            ],
        )
        created["growers' offers"] += len(rows)


def _carriers(company: Company, created: Counter) -> dict[str, Carrier]:
    carriers = {}
    for code, name, direction, city, state, country, phone in data.CARRIERS:
        carriers[code], made = Carrier.objects.get_or_create(
            company=company,
            code=code,
            defaults={
                "name": name,
                "direction": direction,
                "city": city,
                "state": state,
                "country": country,
                "phone": phone,
            },
        )
        created["carriers"] += made
    return carriers


def _charges(company: Company, created: Counter) -> None:
    """The demo's fuel surcharge and tax rate, where the company has not set its own."""
    for code, value in data.CHARGE_VALUES.items():
        created["additional charges"] += AdditionalCharge.objects.filter(
            company=company, code=code, default_value=0
        ).update(default_value=Decimal(value))


def _customers(
    company: Company,
    carriers: dict[str, Carrier],
    sales: User,
    locations: list[Location],
    created: Counter,
) -> None:
    for spec in data.CUSTOMERS:
        address, city, state, zipcode = spec["bill"]
        customer, made = Customer.objects.get_or_create(
            company=company,
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "customer_type": CustomerType[spec["type"]],
                "bill_address": address,
                "bill_city": city,
                "bill_state": state,
                "bill_zipcode": zipcode,
                "bill_country": "United States",
                "phone": spec["phone"],
                "terms": spec["terms"],
                "sales_person": sales,
                "email_for_invoices": f"ap@{spec['code'].lower()}.example",
                "customer_group": data.STATE_GROUPS.get(state, state),
                "payment_method": PaymentMethod.objects.filter(
                    company=company, name="Check"
                ).first(),
                "charge_fuel_surcharge": True,
                "charge_tax": state in data.TAXED_STATES,
            },
        )
        if made:
            customer.locations.set(locations)
            created["customers"] += 1
        for name, code, street, ship_city, ship_state, ship_zip, carrier in spec["ship_tos"]:
            _, made = ShipTo.objects.get_or_create(
                company=company,
                customer=customer,
                ship_to_code=code,
                defaults={
                    "name": name,
                    "address": street,
                    "city": ship_city,
                    "state": ship_state,
                    "zipcode": ship_zip,
                    "country": "United States",
                    "carrier": carriers[carrier],
                },
            )
            created["ship-tos"] += made


def _token(company: Company, admin: User, created: Counter) -> tuple[int, str]:
    token = (
        ApiToken.objects.filter(
            company=company,
            token_type=TokenType.COMPANY,
            description=data.DEMO_TOKEN_DESCRIPTION,
            revoked_at__isnull=True,
        )
        .order_by("id")
        .first()
    )
    if token is None:
        issued = create_token(
            company=company,
            token_type=TokenType.COMPANY,
            description=data.DEMO_TOKEN_DESCRIPTION,
            all_methods=True,
            created_by=admin,
        )
        created["tokens"] += 1
        return issued.token.pk, issued.secret
    # Methods added since the last seed join the demo token, so the demo can call all of them.
    grants = all_grants(TokenType.COMPANY)
    if token.grants != grants:
        token.grants = grants
        token.save(update_fields=["grants"])
    secret = crypto.decrypt(token.secret_encrypted)
    if secret is None:
        # STEMLINE_TOKEN_KEY changed since the token was made: only a new secret can be shown.
        secret = reset_token(token=token).secret
    return token.pk, secret


def _orders(company: Company, users: dict[str, User], created: Counter) -> None:
    """A few orders, once, so Invoices and Prebooks show something: two phone orders a sales
    rep took (confirmed, no fee; one with on-hand and future lines) and two API orders waiting
    for confirmation, all through the web-order services the application and the API use."""
    if Invoice.objects.filter(company=company).exists():
        return
    location = Location.objects.get(company=company, is_default=True)
    today = stock.today()
    lines = list(
        InventoryLine.objects.filter(
            company=company, location=location, reserved_for__isnull=True, total__gte=4
        ).order_by("id")
    )
    on_hand = [line for line in lines if line.origin_on(today) == Origin.ON_HAND]
    future = [line for line in lines if line.origin_on(today) == Origin.FUTURE]
    customers = list(Customer.objects.filter(company=company, active=True).order_by("id")[:4])
    plans = [
        (customers[0], [on_hand[0], on_hand[1], future[0]], False),
        (customers[1 % len(customers)], [on_hand[2]], False),
        (customers[2 % len(customers)], [on_hand[3], future[1 % len(future)]], True),
        (customers[3 % len(customers)], [on_hand[4]], True),
    ]
    for customer, picked, via_api in plans:
        order = sales_services.create_web_order(
            company=company, customer_id=customer.pk, location_id=location.pk
        )
        for line in picked:
            sales_services.add_items(
                company=company,
                customer_id=customer.pk,
                requests=[sales_services.ItemRequest(inventory_id=line.pk, quantity=2)],
                origin=line.origin_on(today),
                location_id=location.pk,
                web_order_id=order.pk,
                # A line without the customer's price level sells at its A price.
                staff_price=None
                if stock.customer_price(line, customer) is not None
                else line.price_a,
            )
        done = sales_services.checkout(
            company=company,
            customer_id=customer.pk,
            web_order_id=order.pk,
            via_api=via_api,
            confirm=not via_api,
            user=None if via_api else users["sales"],
        )
        created["invoices"] += done.invoice is not None
        created["prebooks"] += done.prebook is not None


@transaction.atomic
def seed() -> DemoCompany:
    created: Counter = Counter()
    company = _company(created)
    locations = _locations(company, created)
    users = _users(company, created)
    _catalog(company, created)
    _vendors(company, created)
    _hard_goods(company, created)
    carriers = _carriers(company, created)
    _charges(company, created)
    _customers(company, carriers, users["sales"], locations, created)
    token_id, secret = _token(company, users["admin"], created)
    market.inventory(company, created)
    market.connect_channels(company, created)
    _orders(company, users, created)
    portal = _portal_users(company, created)
    _purchase_orders(company, created)
    _offers(company, created)
    logins = [(data.login(name), Role(role).label) for name, role, _, _ in data.USERS]
    return DemoCompany(company, token_id, secret, logins + portal, +created, shown(company))


def shown(company: Company) -> list[tuple[str, int]]:
    """What the application shows of the demo, counted as its pages count it (active
    customers under Setup, boxes still for sale under Sales, ...)."""
    today = stock.today()
    lines = InventoryLine.objects.filter(AVAILABLE, company=company)
    boxes = F("total") - F("committed") - F("held")
    here = lines.filter(on_hand(today)).aggregate(n=Sum(boxes))["n"] or 0
    coming = lines.filter(future(today)).aggregate(n=Sum(boxes))["n"] or 0
    return [
        ("customers", Customer.objects.filter(company=company, active=True).count()),
        ("vendors", Vendor.objects.filter(company=company, active=True).count()),
        ("carriers", Carrier.objects.filter(company=company, active=True).count()),
        ("products", Product.objects.filter(company=company, active=True).count()),
        ("boxes on hand for sale", here),
        ("boxes coming", coming),
        (
            "boxes growers offer",
            lines.filter(offered_until__gte=today).aggregate(n=Sum(boxes))["n"] or 0,
        ),
        ("hard goods in stock", HardGoodProduct.objects.filter(company=company).count()),
        ("purchase orders", PurchaseOrder.objects.filter(company=company).count()),
        ("marketplace channels", Channel.objects.filter(company=company).count()),
        ("staff logins", User.objects.filter(company=company, role__in=STAFF_ROLES).count()),
        ("Vendor Portal logins", User.objects.filter(company=company, role=Role.VENDOR).count()),
    ]
