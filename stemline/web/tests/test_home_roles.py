"""Every role has a home page and a profile, the Accounting role included."""

import pytest

from stemline.core.models import Role
from stemline.core.services import create_user


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", [Role.ACCOUNTING, Role.ADMIN, Role.SALES, Role.PURCHASING, Role.SETUP]
)
def test_home_for_every_role(client, company, role):
    user = create_user(
        company=company, email=f"{role}@x.example", role=role, password="pw-12345678"
    )
    client.force_login(user)
    r = client.get("/")
    assert r.status_code == 200, r.content[:500]
    for path in ("/profile/",):
        assert client.get(path).status_code == 200
