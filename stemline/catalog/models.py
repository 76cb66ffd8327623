"""What a wholesaler sells: categories, products and the boxes they travel in."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from stemline.core.models import CompanyOwned


class Category(CompanyOwned):
    name = models.CharField(max_length=200)
    komet_network_id = models.PositiveIntegerField(null=True, blank=True)
    komet_network_name = models.CharField(max_length=100, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint("company", Upper("name"), name="category_name_unique"),
            models.CheckConstraint(condition=~Q(name=""), name="category_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class UnitType(models.TextChoices):
    STEM = "Stem", "Stem"
    BUNCH = "Bunch", "Bunch"


class Division(models.TextChoices):
    FLOWERS = "Flowers", "Fresh Cut Flowers"
    PLANTS = "Plants", "Plants"
    HARD_GOODS = "Hard Goods", "Hard Goods"


DIVISION_IDS = {Division.FLOWERS: 1, Division.PLANTS: 2, Division.HARD_GOODS: 3}


class Product(CompanyOwned):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    description = models.CharField(max_length=300)
    variety = models.CharField(max_length=100, blank=True)
    color = models.CharField(max_length=100, blank=True)
    grade = models.CharField(max_length=100, blank=True)
    legacy_code = models.CharField(max_length=20, blank=True)
    default_unit_type = models.CharField(
        max_length=5, choices=UnitType.choices, default=UnitType.STEM
    )
    division = models.CharField(max_length=12, choices=Division.choices, default=Division.FLOWERS)
    regions_of_origin = models.JSONField(default=list, blank=True)
    product_roll_up_code = models.CharField(max_length=20, blank=True)
    tags = models.CharField(max_length=200, blank=True)
    # The product's usual price per unit at each price level (parties.PriceLevel): a new
    # inventory line that brings no price of its own takes these.
    price_a = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    price_b = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    active = models.BooleanField(default=True)
    updated_on = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["description", "id"]
        # The web shop's order (ecommerce/inventory.list walks products by description).
        indexes = [models.Index(fields=["company", "description", "id"], name="product_by_desc")]
        constraints = [
            models.UniqueConstraint(
                "company",
                Upper("legacy_code"),
                condition=~Q(legacy_code=""),
                name="product_legacy_code_unique",
            ),
            models.CheckConstraint(condition=~Q(description=""), name="product_desc_not_empty"),
            models.CheckConstraint(
                condition=~Q(variety="", color="", grade=""),
                name="product_has_variety_color_or_grade",
            ),
            models.CheckConstraint(
                condition=Q(default_unit_type__in=UnitType.values), name="product_unit_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(price_a__isnull=True) | Q(price_a__gte=0), name="product_price_a"
            ),
            models.CheckConstraint(
                condition=Q(price_b__isnull=True) | Q(price_b__gte=0), name="product_price_b"
            ),
        ]

    def __str__(self) -> str:
        return self.description


class BoxType(CompanyOwned):
    code = models.CharField(max_length=3)
    name = models.CharField(max_length=50, blank=True)
    fbe = models.DecimalField(max_digits=10, decimal_places=3)
    komet_network_id = models.PositiveIntegerField(null=True, blank=True)
    komet_network_name = models.CharField(max_length=5, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code", "id"]
        constraints = [
            models.UniqueConstraint("company", Upper("code"), name="boxtype_code_unique"),
            models.CheckConstraint(condition=~Q(code=""), name="boxtype_code_not_empty"),
            models.CheckConstraint(
                condition=Q(fbe__gt=0) & Q(fbe__lte=10), name="boxtype_fbe_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.code


# The standard box types every company starts with (code, name, FBE, Komet Network id).
STANDARD_BOX_TYPES = [
    ("FB", "Full Box", "1.00", 1),
    ("HB", "Half Box", "0.50", 2),
    ("QB", "Quarter Box", "0.25", 3),
    ("EB", "Eighth Box", "0.125", 4),
]
