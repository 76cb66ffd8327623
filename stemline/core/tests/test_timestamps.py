"""core.timestamps: on PostgreSQL in UTC, time stamps are parsed by psycopg's C loader and come
back exactly as Django's own loader gives them; a connection in another zone keeps Django's."""

import datetime

import pytest
from django.db import connection, connections
from django.db.backends.postgresql.psycopg_any import register_tzloader

from stemline.core import prepared, timestamps
from stemline.parties.models import Customer

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's loaders"),
]

LITERALS = [
    "2026-12-06 21:39:27.478169+00",
    "2026-02-14 08:00:00-05",  # another offset: the same instant in UTC
    "2024-02-29 23:59:59.999999+13:45",
    "1969-07-20 20:17:40+00",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
]
SQL = "SELECT " + ", ".join(f"'{t}'::timestamptz" for t in LITERALS)


def _loader():
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID
    from psycopg.pq import Format

    connection.ensure_connection()
    return connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)


def _read_with_djangos_loader():
    raw = connection.connection.cursor()
    register_tzloader(datetime.UTC, raw)  # on this cursor only
    raw.execute(SQL)
    return raw.fetchone()


@pytest.mark.skipif(timestamps.loader_class() is None, reason="psycopg without its C module")
def test_utc_connections_parse_time_stamps_in_c_and_give_what_django_gives():
    assert _loader() is timestamps.loader_class()
    with connection.cursor() as cursor:
        cursor.execute(SQL)
        ours = cursor.fetchone()
    with prepared.cursor() as cursor:
        cursor.execute(SQL)
        prepared_ours = cursor.fetchone()
    djangos = _read_with_djangos_loader()
    assert ours == djangos == prepared_ours
    for mine, theirs in zip(ours, djangos, strict=True):
        assert mine.tzinfo is theirs.tzinfo is datetime.UTC
    assert ours[1] == datetime.datetime(2026, 2, 14, 13, 0, tzinfo=datetime.UTC)


@pytest.mark.skipif(timestamps.loader_class() is None, reason="psycopg without its C module")
def test_a_model_round_trip_keeps_the_instant_and_the_zone(company):
    at = datetime.datetime(2026, 2, 14, 7, 30, 15, 123456, tzinfo=datetime.UTC)
    customer = Customer.objects.create(company=company, name="Bloom & Co", code="BLM")
    Customer.objects.filter(pk=customer.pk).update(created_at=at)
    read = Customer.objects.get(pk=customer.pk).created_at
    assert read == at and read.tzinfo is datetime.UTC


def test_a_connection_in_another_zone_keeps_djangos_loader():
    settings_dict = {**connection.settings_dict, "TIME_ZONE": "America/Bogota"}
    other = type(connections["default"])(settings_dict, alias="timestamps_test")
    try:
        other.ensure_connection()
        assert other.timezone_name == "America/Bogota"
        assert timestamps.install(other) is False
        with other.cursor() as cursor:
            cursor.execute("SELECT '2026-02-14 13:00:00+00'::timestamptz")
            (value,) = cursor.fetchone()
        assert value == datetime.datetime(2026, 2, 14, 13, 0, tzinfo=datetime.UTC)
        assert value.utcoffset() == datetime.timedelta(hours=-5)  # Bogota's, as Django gives
    finally:
        other.close()
