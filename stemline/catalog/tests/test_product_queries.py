"""The written statement behind product.list answers exactly what the ORM would."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stemline.catalog import queries
from stemline.catalog.models import Category, Product
from stemline.core.filters import icontains, iexact

pytestmark = pytest.mark.django_db

ALPHABET = "aAbBrR%_\\ -é"
WORDS = ["Rose Freedom", "rose_50%", "ROSE\\red", "Carnation", "Hydrangea é", "a%b", "A_B"]


def orm_ids(company, product_id, description, code, include_inactive):
    qs = Product.objects.filter(company=company)
    if product_id is not None:
        qs = qs.filter(pk=product_id)
    elif not include_inactive:
        qs = qs.filter(active=True)
    qs = iexact(icontains(qs, "description", description), "legacy_code", code)
    return list(qs.order_by("description", "id").values_list("id", flat=True))


@pytest.fixture
def catalog(company, other_company):
    roses = Category.objects.create(company=company, name="Roses")
    made = []
    for i, word in enumerate(WORDS * 2):
        made.append(
            Product.objects.create(
                company=company,
                category=roses,
                description=f"{word} {i % 3}",
                variety="V",
                legacy_code=f"{word[:3]}{i}".replace(" ", ""),
                active=i % 4 != 0,
            )
        )
    theirs = Category.objects.create(company=other_company, name="Roses")
    Product.objects.create(
        company=other_company,
        category=theirs,
        description="Rose Freedom 0",
        variety="V",
        legacy_code="Ros0",
    )
    return company, made


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pick=st.none() | st.integers(0, len(WORDS) * 2 - 1),
    description=st.none() | st.text(ALPHABET, max_size=4),
    code=st.none() | st.sampled_from(["ros0", "ROS7", "a%b", "Car3", "nope", "A_B12", ""]),
    include_inactive=st.booleans(),
)
def test_statement_matches_the_orm(catalog, pick, description, code, include_inactive):
    company, made = catalog
    product_id = made[pick].pk if pick is not None else None
    rows = queries.product_rows(
        company_id=company.pk,
        product_id=product_id,
        description=description,
        legacy_code=code,
        include_inactive=include_inactive,
    )
    assert [r[0] for r in rows] == orm_ids(company, product_id, description, code, include_inactive)


def test_rows_carry_the_category_name(catalog):
    company, made = catalog
    (row,) = queries.product_rows(company_id=company.pk, product_id=made[1].pk)
    assert dict(zip(queries.PRODUCT_LIST_COLUMNS, row, strict=True))["category"] == "Roses"
