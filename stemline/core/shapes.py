"""Hot ORM statements built once per process, run many times.

Building a statement through the ORM (filters, joins, the compiler) costs far more Python than
running it: on the order path (issue 16) about two thirds of a request's CPU went to compiling
~30 small statements that differ from one request to the next only in their parameters. A
`Select` is a queryset written as usual, by a function of its parameters; the first call on a
database alias compiles it once with stand-in values and remembers where each parameter goes;
every later call sends that text with the real values (through `prepared.cursor`, so on
PostgreSQL it is also planned once per connection) and makes model instances the way the ORM
does (`Model.from_db`, the compiler's converters, `select_related` populators). `insert` and
`update` write rows of a model the way `bulk_create` and `save(update_fields=...)` do
(`pre_save`, `get_db_prep_save`), from statement text kept per model and shape.

What they do not do, on purpose: signals (bulk_create sends none either; use them only for
models nobody listens to: core.tests.test_shapes keeps a list), custom `save()` methods, and
parameters the ORM would rewrite (a stand-in that does not come through unchanged refuses to
compile: `ShapeError`). Parameters are ints unless named in `strings=`.
"""

from __future__ import annotations

import inspect
import re
import threading
from collections.abc import Callable, Iterable

from django.db import DEFAULT_DB_ALIAS, connections
from django.db import models as fields_of
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

from . import prepared

# Stand-ins: inside a 32-bit integer's range (Django refuses a lookup with an integer out of a
# column's range), and unlikely as real constants of a statement.
_INT_BASE = 1_987_654_300
_STR_BASE = "\ue000stemline-shape-"


class ShapeError(RuntimeError):
    pass


class _Compiled:
    __slots__ = (
        "sql",
        "slots",
        "model",
        "init_list",
        "width",
        "converters",
        "populators",
        "flat",
        "annotations",
    )

    def __init__(
        self, sql, slots, model, init_list, width, converters, populators, flat, annotations=()
    ):
        self.annotations = annotations  # (attribute, column) of each annotation, set as the ORM
        self.sql = sql
        self.slots = slots  # per statement parameter: ("arg", i) or ("const", value)
        self.model = model
        self.init_list = init_list
        self.width = width
        self.converters = converters
        self.populators = populators
        self.flat = flat


_PLACEHOLDER = re.compile(r"%%|%s")


def _inline_int_constants(sql: str, slots: list) -> tuple[str, list]:
    """The statement with its integer constants (a status, an origin) written into its text.

    On PostgreSQL the statement is prepared, and after a few runs planned once for any
    parameters (its generic plan); a constant sent as a parameter is unknown to that plan, so
    the planner can neither use its statistics of that value nor a partial index whose
    condition names it. (A customer's pending web order was found by walking the company's
    orders backwards by id, because `status = $4` could be any status.)"""
    values = iter(slots)
    kept = []

    def put(match):
        if match.group() == "%%":
            return "%%"
        kind, value = next(values)
        if kind == "const" and isinstance(value, int) and not isinstance(value, bool):
            value = int(value)  # psycopg's Int2 and the like are ints too
            return str(value) if value >= 0 else f"({value})"
        kept.append((kind, value))
        return "%s"

    return _PLACEHOLDER.sub(put, sql), kept


class Select:
    """`Select(lambda company_id, pk: Customer.objects.filter(company_id=company_id, pk=pk))`:
    `.first(company.pk, 5)`, `.all(...)`, `.exists(...)`. A function of `*ids` takes any
    number of them (one compiled text per number). Model querysets give instances;
    `values_list(...)` ones give tuples (`flat=True`: values)."""

    def __init__(self, build: Callable[..., QuerySet], *, strings: Iterable[str] = ()):
        self.build = build
        signature = inspect.signature(build)
        self.names = [
            p.name
            for p in signature.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        self.variadic = any(p.kind == p.VAR_POSITIONAL for p in signature.parameters.values())
        self.strings = set(strings)
        self._compiled: dict[tuple[str, int], _Compiled] = {}
        self._lock = threading.Lock()

    def _stand_ins(self, count: int) -> list:
        values = []
        for i in range(count):
            name = self.names[i] if i < len(self.names) else None
            values.append(f"{_STR_BASE}{i}" if name in self.strings else _INT_BASE + i)
        return values

    def _compile(self, alias: str, count: int) -> _Compiled:
        stand_ins = self._stand_ins(count)
        queryset = self.build(*stand_ins)
        query = queryset.query
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        where = {value: i for i, value in enumerate(stand_ins)}
        slots = []
        seen = set()
        for value in params:
            if isinstance(value, (int, str)) and not isinstance(value, bool) and value in where:
                slots.append(("arg", where[value]))
                seen.add(where[value])
            else:
                slots.append(("const", value))
        if len(seen) != count:
            missing = [
                self.names[i] if i < len(self.names) else i for i in range(count) if i not in seen
            ]
            raise ShapeError(f"parameters {missing} do not reach the statement unchanged: {sql}")
        sql, slots = _inline_int_constants(sql, slots)
        select = compiler.select
        expressions = [s[0] for s in select]
        converters = list(compiler.get_converters(expressions).items())
        iterable = queryset._iterable_class.__name__
        if iterable == "ModelIterable":
            klass_info = compiler.klass_info
            fields = klass_info["select_fields"]
            start, end = fields[0], fields[-1] + 1
            if start != 0 or queryset.query.extra_select:
                raise ShapeError("extra columns are not supported")
            init_list = [f[0].target.attname for f in select[start:end]]
            populators = get_related_populators(klass_info, select, alias)
            annotations = tuple(compiler.annotation_col_map.items())
            return _Compiled(
                sql,
                slots,
                klass_info["model"],
                init_list,
                end,
                converters,
                populators,
                False,
                annotations,
            )
        if iterable in ("ValuesListIterable", "FlatValuesListIterable"):
            return _Compiled(
                sql,
                slots,
                None,
                None,
                len(select),
                converters,
                (),
                iterable == "FlatValuesListIterable",
            )
        raise ShapeError(f"{iterable} querysets are not supported")

    def compiled(self, alias: str, count: int) -> _Compiled:
        key = (alias, count)
        found = self._compiled.get(key)
        if found is None:
            with self._lock:
                found = self._compiled.get(key)
                if found is None:
                    found = self._compiled[key] = self._compile(alias, count)
        return found

    def rows(self, *args, using: str = DEFAULT_DB_ALIAS) -> list:
        if not self.variadic and len(args) != len(self.names):
            raise TypeError(f"{len(self.names)} parameters expected, {len(args)} given")
        shape = self.compiled(using, len(args))
        params = [args[v] if kind == "arg" else v for kind, v in shape.slots]
        with prepared.cursor(using) as cursor:
            cursor.execute(shape.sql, params)
            fetched = cursor.fetchall()
        if shape.converters and fetched:
            connection = connections[using]
            converted = []
            for row in fetched:
                row = list(row)
                for pos, (convs, expression) in shape.converters:
                    value = row[pos]
                    for convert in convs:
                        value = convert(value, expression, connection)
                    row[pos] = value
                converted.append(row)
            fetched = converted
        if shape.model is None:
            if shape.flat:
                return [row[0] for row in fetched]
            return [tuple(row[: shape.width]) for row in fetched]
        made = []
        from_db = shape.model.from_db
        for row in fetched:
            obj = from_db(using, shape.init_list, row[: shape.width])
            for populator in shape.populators:
                populator.populate(row, obj)
            for attribute, column in shape.annotations:
                setattr(obj, attribute, row[column])
            made.append(obj)
        return made

    def all(self, *args, using: str = DEFAULT_DB_ALIAS) -> list:
        return self.rows(*args, using=using)

    def first(self, *args, using: str = DEFAULT_DB_ALIAS):
        found = self.rows(*args, using=using)
        return found[0] if found else None


# Writes -----------------------------------------------------------------------------------

_insert_sql: dict[tuple, tuple[str, list]] = {}


def _insert_fields(model: type[Model]) -> list:
    meta = model._meta
    return [
        f
        for f in meta.concrete_fields
        if not (f.primary_key and getattr(f, "db_returning", False)) and not f.generated
    ]


def insert(objs: list[Model], *, using: str = DEFAULT_DB_ALIAS) -> list[Model]:
    """Insert unsaved instances of one model in one statement, as `bulk_create` would (their
    fields' `pre_save`, so `auto_now_add` stamps), and give each its primary key."""
    if not objs:
        return objs
    model = type(objs[0])
    connection = connections[using]
    key = (using, model, len(objs))
    found = _insert_sql.get(key)
    if found is None:
        fields = _insert_fields(model)
        found = _insert_sql[key] = (_insert_text(connection, model, fields, len(objs)), fields)
    sql, fields = found
    params = _insert_params(objs, fields, connection)
    with prepared.cursor(using) as cursor:
        cursor.execute(sql, params)
        keys = [row[0] for row in cursor.fetchall()]
    # RETURNING gives the rows in the order of VALUES on both databases.
    _saved(objs, keys, using)
    return objs


def _placeholder(field) -> str:
    return "%s"


def _insert_text(connection, model, fields, rows: int, slot=_placeholder) -> str:
    """INSERT of `rows` rows of `fields` returning their keys; `slot(field)`: what each value
    is written as (a parameter, unless told otherwise)."""
    quote = connection.ops.quote_name
    values = "(" + ", ".join(slot(f) for f in fields) + ")"
    return (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in fields)}) VALUES "
        + ", ".join([values] * rows)
        + f" RETURNING {quote(model._meta.pk.column)}"
    )


# How a column's value is made ready for the driver, where Django's own `get_db_prep_save`
# would only hand it on: exact field classes (a subclass may prepare its values its own way)
# and, at each call, a value of the exact type named (anything else takes Django's way).
_TEXT, _FLAG, _INTEGER, _KEY = 1, 2, 3, 4
_KINDS = {
    fields_of.CharField: _TEXT,
    fields_of.TextField: _TEXT,
    fields_of.BooleanField: _FLAG,
    **dict.fromkeys(
        (
            fields_of.IntegerField,
            fields_of.SmallIntegerField,
            fields_of.BigIntegerField,
            fields_of.PositiveIntegerField,
            fields_of.PositiveSmallIntegerField,
            fields_of.PositiveBigIntegerField,
        ),
        _INTEGER,
    ),
}
_AUTO_KEYS = (fields_of.AutoField, fields_of.BigAutoField, fields_of.SmallAutoField)
_SIMPLE_TYPE = {_TEXT: str, _FLAG: bool, _INTEGER: int, _KEY: int}
_plans: dict[tuple[str, int], tuple] = {}


def _plan(field, connection) -> tuple:
    """(field, kind or 0, the exact type a value must be of, the backend's integer adapter,
    the field's internal type), once per field and database."""
    key = (connection.alias, id(field))
    found = _plans.get(key)
    if found is None:
        kind = _KINDS.get(type(field), 0)
        if type(field) is fields_of.ForeignKey and type(field.target_field) in _AUTO_KEYS:
            # A key: ForeignKey hands an int to the target's AutoField, which gives it back.
            kind = _KEY
        found = _plans[key] = (
            field,
            kind,
            _SIMPLE_TYPE.get(kind),
            connection.ops.adapt_integerfield_value,
            field.get_internal_type(),
        )
    return found


def _prep(plan: tuple, obj, connection):
    """What `field.get_db_prep_save(field.pre_save(obj, add=True), connection)` gives."""
    field, kind, simple, adapt, internal = plan
    value = field.pre_save(obj, add=True)
    if kind:
        if value is None:
            return None
        if type(value) is simple:
            return adapt(value, internal) if kind == _INTEGER else value
    return field.get_db_prep_save(value, connection)


def _insert_params(objs: list[Model], fields: list, connection, skip=None) -> list:
    """The values of `fields` of each row; `skip`: a field the statement fills itself (the
    key of a parent inserted by the same statement, which may be assigned unsaved)."""
    params = []
    checked = None
    if skip is not None:
        # The relations but `skip`, as a set: Django compares every field with each of a
        # list's (and no fields at all would mean every field, `skip` too).
        checked = frozenset(f for f in fields if f is not skip and f.is_relation)
    plans = [_plan(f, connection) for f in fields if f is not skip]
    for obj in objs:
        # A related object assigned before it was saved gives its key now (as bulk_create).
        if checked is None:
            obj._prepare_related_fields_for_save(operation_name="insert")
        elif checked:
            obj._prepare_related_fields_for_save(operation_name="insert", fields=checked)
        params.extend([_prep(plan, obj, connection) for plan in plans])
    return params


def _saved(objs: list[Model], keys: list, using: str) -> None:
    attname = objs[0]._meta.pk.attname
    for obj, pk in zip(objs, keys, strict=True):
        setattr(obj, attname, pk)
        obj._state.adding = False
        obj._state.db = using


_family_sql: dict[tuple, tuple[str, list, list]] = {}


def insert_family(
    parent: Model, groups: list[tuple[list[Model], str]], *, using: str = DEFAULT_DB_ALIAS
) -> None:
    """Insert an unsaved `parent`, then each group's unsaved rows with the parent's key in
    their field `attname` (a foreign key to it, or a plain id column), as `insert` would: on
    PostgreSQL in one statement (a data-modifying WITH: one round trip instead of one per
    table), elsewhere one INSERT per table. Empty groups are skipped; a foreign key's related
    object is set to the parent on its rows."""
    groups = [(rows, attname) for rows, attname in groups if rows]
    connection = connections[using]
    if connection.vendor != "postgresql" or not groups:
        insert([parent], using=using)
        for rows, attname in groups:
            _point_at(rows, attname, parent)
            insert(rows, using=using)
        return
    key = (using, type(parent), tuple((type(rows[0]), len(rows), att) for rows, att in groups))
    found = _family_sql.get(key)
    if found is None:
        found = _family_sql[key] = _family_statement(connection, type(parent), groups)
    sql, parent_fields, skips = found
    params = _insert_params([parent], parent_fields, connection)
    for (rows, _attname), (fields, skip) in zip(groups, skips, strict=True):
        params += _insert_params(rows, fields, connection, skip=skip)
    with prepared.cursor(using) as cursor:
        cursor.execute(sql, params)
        returned = cursor.fetchall()
    keys: dict[int, list] = {}
    for group, pk in returned:
        keys.setdefault(group, []).append(pk)
    _saved([parent], keys[0], using)
    for n, (rows, attname) in enumerate(groups, start=1):
        _point_at(rows, attname, parent)
        _saved(rows, keys[n], using)


def _family_statement(connection, parent_model, groups) -> tuple[str, list, list]:
    quote = connection.ops.quote_name
    parent_fields = _insert_fields(parent_model)
    pk = quote(parent_model._meta.pk.column)
    parts = [f"p AS ({_insert_text(connection, parent_model, parent_fields, 1)})"]
    selects = [f"SELECT 0, {pk} FROM p"]
    skips = []
    for n, (rows, attname) in enumerate(groups, start=1):
        model = type(rows[0])
        fields = _insert_fields(model)
        skip = next(f for f in fields if f.attname == attname)

        def slot(f, skip=skip) -> str:
            return f"(SELECT {pk} FROM p)" if f is skip else "%s"

        parts.append(f"g{n} AS ({_insert_text(connection, model, fields, len(rows), slot)})")
        skips.append((fields, skip))
        selects.append(f"SELECT {n}, {quote(model._meta.pk.column)} FROM g{n}")
    # Each INSERT's RETURNING gives its rows in the order of its VALUES (as `insert` relies on);
    # the first column says whose key it is.
    return "WITH " + ", ".join(parts) + " " + " UNION ALL ".join(selects), parent_fields, skips


def _point_at(rows: list[Model], attname: str, parent: Model) -> None:
    """Set the parent on rows that were given its key in `attname`."""
    field = next(f for f in rows[0]._meta.concrete_fields if f.attname == attname)
    for row in rows:
        if field.is_relation:
            setattr(row, field.name, parent)
        else:
            setattr(row, attname, parent.pk)


_after_sql: dict[tuple, tuple[str, str, list, list[str]]] = {}


def insert_after(
    objs: list[Model], source: str, *, prefix: str = "row", using: str = DEFAULT_DB_ALIAS
) -> tuple[str, str, dict]:
    """The INSERT of unsaved `objs` (one model) as parts of a data-modifying WITH that write
    them only if the part `source` (at most one row) gave a row: one part a row, `prefix0 AS
    (INSERT INTO t (...) SELECT %(prefix0_0)s, ... FROM source RETURNING pk)`, ... (one row
    each, so PostgreSQL types each parameter by its column, as in VALUES). PostgreSQL only:
    the caller runs the statement, with the keys read by the second text (in the order of
    `objs`), and hands them to `saved`. (parts, the keys' SELECT, named parameters)."""
    if not objs:
        raise ValueError("nothing to insert")
    model = type(objs[0])
    connection = connections[using]
    key = (using, model, len(objs), source, prefix)
    found = _after_sql.get(key)
    if found is None:
        quote = connection.ops.quote_name
        fields = _insert_fields(model)
        pk = quote(model._meta.pk.column)
        head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"
        names, parts, keys = [], [], []
        for n in range(len(objs)):
            row = [f"{prefix}{n}_{i}" for i in range(len(fields))]
            names += row
            values = ", ".join(f"%({name})s" for name in row)
            parts.append(f"{prefix}{n} AS ({head} SELECT {values} FROM {source} RETURNING {pk})")
            keys.append(f"SELECT {pk} FROM {prefix}{n}")
        found = _after_sql[key] = (", ".join(parts), " UNION ALL ".join(keys), fields, names)
    parts, keys, fields, names = found
    return parts, keys, dict(zip(names, _insert_params(objs, fields, connection), strict=True))


def saved(objs: list[Model], keys: list, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Rows written by a statement of the caller's (`insert_after`): their keys, in order."""
    _saved(objs, keys, using)


_update_sql: dict[tuple, tuple[str, list]] = {}


def update(obj: Model, fields: Iterable[str], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """`obj.save(update_fields=fields)` without its signals: the fields' `pre_save` (so
    `auto_now` stamps when named), one UPDATE by primary key."""
    model = type(obj)
    names = tuple(fields)
    connection = connections[using]
    key = (using, model, names)
    found = _update_sql.get(key)
    if found is None:
        meta = model._meta
        quote = connection.ops.quote_name
        chosen = [meta.get_field(name) for name in names]
        sets = ", ".join(f"{quote(f.column)} = %s" for f in chosen)
        sql = f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s"
        found = _update_sql[key] = (sql, chosen)
    sql, chosen = found
    params = [f.get_db_prep_save(f.pre_save(obj, add=False), connection) for f in chosen]
    params.append(obj.pk)
    with prepared.cursor(using) as cursor:
        cursor.execute(sql, params)
