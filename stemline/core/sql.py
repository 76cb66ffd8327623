"""Small pieces of SQL that the ORM writes slowly."""

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL


def id_in(ids, field: str = "pk") -> Q:
    """`field IN ids` for a long list of ids (the chunks of the long lists): on PostgreSQL one
    array parameter, since psycopg parses every placeholder of a query on the client and 500
    of them cost more than the query; a plain IN elsewhere."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::bigint[])", (ids,))})
    return Q(**{f"{field}__in": ids})
