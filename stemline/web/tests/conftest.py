"""Fixtures of the web application's tests: one signed-in user per role."""

import pytest
from django.test import Client

from stemline.core.models import Role
from stemline.core.services import create_user

PASSWORD = "tulip-garden-2026"


@pytest.fixture
def person(company):
    """person(role) -> a user of `company` with that role (and its vendor for role vendor)."""
    made = {}

    def make(role, *, company_=None, vendor=None, email=None):
        owner = company_ or company
        key = (owner.pk, role, email)
        if key not in made:
            made[key] = create_user(
                company=owner,
                email=email or f"{role}-{owner.pk}@example.com",
                role=role,
                password=PASSWORD,
                vendor=vendor,
            )
        return made[key]

    return make


@pytest.fixture
def as_role(person):
    """as_role(role) -> a Django test client signed in as a user with that role."""

    def make(role, **kw):
        client = Client()
        client.force_login(person(role, **kw))
        return client

    return make


@pytest.fixture
def admin_client_(as_role):
    return as_role(Role.ADMIN)


def queries_of(fn) -> int:
    """How many SQL statements `fn()` runs (counted as they execute, whatever the debug log
    holds)."""
    from django.db import connection

    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        fn()
    return count
