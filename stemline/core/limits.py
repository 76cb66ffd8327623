"""What the columns hold, for the doors that take numbers from people (web forms, query strings):
a number a column cannot store is refused as bad input instead of failing in the database."""

# PostgreSQL `integer`, the column of every IntegerField and PositiveIntegerField (SQLite stores
# more, but the same code must behave the same on both).
INT_MAX = 2**31 - 1
# PostgreSQL `bigint`: the primary keys (BigAutoField) and the Big*IntegerFields.
BIGINT_MAX = 2**63 - 1


def parse_id(text: str | None) -> int | None:
    """A primary key from a form or query string, or None when `text` is not one.

    `str.isdigit` also accepts digits like "²" that `int()` refuses, and a key beyond bigint
    cannot exist, so both are simply "no such id".
    """
    if not text or not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 0 < value <= BIGINT_MAX else None
