"""Who may use what: the one permission layer every view goes through.

Roles: an *advocate* is a user with an active Advocate profile; *sales reps* and
*community managers* are Django groups; *admins* use Django admin (staff). A
prospect has no account: they hold a signed link checked by the view that serves it.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import cache, wraps
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import CharField, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.http import HttpRequest, HttpResponse

MANAGERS_GROUP = "Community managers"
REPS_GROUP = "Sales reps"
# advocates.models.Advocate.Status.ACTIVE: the status that makes a user an advocate.
ADVOCATE_ACTIVE = "active"


class Role(StrEnum):
    ADVOCATE = "advocate"
    REP = "rep"
    MANAGER = "manager"


# The names of the flags with_roles() adds to each user it reads.
_FLAGS = (
    ("vouch_role_manager", Role.MANAGER),
    ("vouch_role_rep", Role.REP),
    ("vouch_role_advocate", Role.ADVOCATE),
)


def with_roles(users: QuerySet) -> QuerySet:
    """``users`` with their roles read in the same query (three indexed EXISTS).

    The sign-in backends (core.auth_backends) read the request's user this way, so a
    page knows its user's roles without a query of its own and never from a copy that
    could be stale: a rep removed from the group loses the pages on their next request.
    Raw SQL built once per process: the ORM's EXISTS subqueries cost more to compile on
    every request than the query takes to run.
    """
    return users.annotate(
        **{flag: RawSQL(sql, params) for flag, (sql, params) in _role_sql().items()}  # noqa: S611 - names from the models, values as parameters (_role_sql)
    )


def user_with_roles(user_id: Any) -> Any:
    """The user ``user_id`` with their roles (as with_roles()), or None: one statement
    built once per process, its row converted as the ORM converts it (the database's
    and the fields' converters) and made a model with ``from_db``. Compiling the ORM
    query was half the signed-in floor's own time, and ``raw()``'s per-query setup
    (the model's init order, the annotations) a tenth of what remained."""
    meta: Any = get_user_model()._meta
    try:
        user_id = meta.pk.to_python(user_id)
    except ValidationError:  # not an id at all (a session from another site's users)
        return None
    sql, params = _user_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    names, converters = _user_row_reader()
    values = list(row)
    for index, convert in converters:
        values[index] = convert(values[index])
    fields = len(names)
    user = get_user_model().from_db(connection.alias, names, values[:fields])
    for flag, value in zip(_role_sql(), values[fields:], strict=True):
        setattr(user, flag, value)
    return user


@cache
def _user_sql() -> tuple[str, list[str]]:
    meta: Any = get_user_model()._meta
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    columns = [f"{table}.{qn(field.column)}" for field in meta.concrete_fields]
    flags = _role_sql()
    select = [*columns, *(f"{sql} AS {qn(flag)}" for flag, (sql, _params) in flags.items())]
    params = [value for _sql, values in flags.values() for value in values]
    where = f"{table}.{qn(meta.pk.column)} = %s"
    return f"SELECT {', '.join(select)} FROM {table} WHERE {where}", params  # noqa: S608 - names from the model, values as parameters


@cache
def _user_row_reader() -> tuple[list[str], list[tuple[int, Callable[[Any], Any]]]]:
    """The user's field names (``from_db``'s order) and, by column, the converters the
    ORM applies to a value read (the backend's, e.g. SQLite's booleans and datetimes,
    then the field's own)."""
    meta: Any = get_user_model()._meta
    names = [field.attname for field in meta.concrete_fields]
    converters = []
    for index, field in enumerate(meta.concrete_fields):
        column = field.get_col(meta.db_table)
        chain = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if chain:
            converters.append((index, _converting(chain, column)))
    return names, converters


def _converting(chain: list[Callable[..., Any]], column: Any) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        for converter in chain:
            value = converter(value, column, connection)
        return value

    return convert


IN_GROUP_SQL = (
    "EXISTS (SELECT 1 FROM {memberships} m INNER JOIN {groups} g ON g.id = m.{member_group}"
    " WHERE m.{member} = {users}.{user_id} AND g.name = %s)"
)
# The id of the user's active advocate profile, or NULL: the role, and the key of the
# advocate's cached fragments (core.fragments) without a query of its own.
IS_ADVOCATE_SQL = (
    "(SELECT a.id FROM {advocates} a WHERE a.user_id = {users}.{user_id} AND a.status = %s)"
)


@cache
def _role_sql() -> dict[str, tuple[str, tuple[str, ...]]]:
    user_model: Any = get_user_model()
    qn = connection.ops.quote_name
    names = {
        "users": qn(user_model._meta.db_table),
        "user_id": qn(user_model._meta.pk.column),
        "memberships": qn(user_model.groups.through._meta.db_table),
        "member": qn(user_model.groups.through._meta.get_field("user").column),
        "member_group": qn(user_model.groups.through._meta.get_field("group").column),
        "groups": qn(user_model.groups.field.related_model._meta.db_table),
        "advocates": qn(user_model._meta.get_field("advocate").related_model._meta.db_table),
    }
    # Table and column names from the models (quoted), values as parameters.
    in_group = IN_GROUP_SQL.format(**names)
    is_advocate = IS_ADVOCATE_SQL.format(**names)
    return {
        "vouch_role_manager": (in_group, (MANAGERS_GROUP,)),
        "vouch_role_rep": (in_group, (REPS_GROUP,)),
        "vouch_role_advocate": (is_advocate, (ADVOCATE_ACTIVE,)),
    }


def user_roles(user: Any) -> frozenset[Role]:
    """The roles of a user, computed once per request and cached on the user object:
    from the flags with_roles() read with the user, or else with one query."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_vouch_roles", None)
    if cached is not None:
        return cached
    if all(hasattr(user, flag) for flag, _role in _FLAGS):
        user._vouch_roles = frozenset(role for flag, role in _FLAGS if getattr(user, flag))
        return user._vouch_roles
    # A user read some other way: one query, the user's group names, and a row for an
    # active profile (the advocates app's profile, reached through the user model's
    # reverse relation).
    rows = list(
        user.groups.annotate(source=Value("group", output_field=CharField()))
        .values_list("source", "name")
        .union(
            get_user_model()
            .objects.filter(pk=user.pk, advocate__status=ADVOCATE_ACTIVE)
            .annotate(
                source=Value("advocate", output_field=CharField()),
                label=Value("", output_field=CharField()),
            )
            .values_list("source", "label")
        )
    )
    groups = {name for source, name in rows if source == "group"}
    roles: set[Role] = set()
    if MANAGERS_GROUP in groups:
        roles.add(Role.MANAGER)
    if REPS_GROUP in groups:
        roles.add(Role.REP)
    if any(source == "advocate" for source, _name in rows):
        roles.add(Role.ADVOCATE)
    user._vouch_roles = frozenset(roles)
    return user._vouch_roles


def advocate_id_of(user: Any) -> int | None:
    """The id of ``user``'s active advocate profile (None if they are not an advocate):
    read with the user by with_roles(), else one query."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if hasattr(user, "vouch_role_advocate"):
        return user.vouch_role_advocate
    user.vouch_role_advocate = (
        get_user_model()
        .objects.filter(pk=user.pk, advocate__status=ADVOCATE_ACTIVE)
        .values_list("advocate__pk", flat=True)
        .first()
    )
    return user.vouch_role_advocate


def has_role(user: Any, *roles: Role) -> bool:
    return bool(user_roles(user) & set(roles))


def role_required(*roles: Role) -> Callable:
    """Signed-in users holding one of ``roles``; anyone else gets 403 (anonymous: login)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request.user, *roles):
                raise PermissionDenied("This page is not part of your role.")
            return view(request, *args, **kwargs)

        # Read by the authorization test. mypy types a function as a Callable, which has
        # no attributes to set.
        wrapped.vouch_roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorator


advocate_required = role_required(Role.ADVOCATE)
manager_required = role_required(Role.MANAGER)
staff_required = role_required(Role.MANAGER, Role.REP)


def public(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view as deliberately open to anyone (landing pages, signed links, health)."""
    view.vouch_public = True  # type: ignore[attr-defined]  # as vouch_roles above
    return view
