"""What every hostile test needs: the personas' world, table counts, form discovery."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from django.apps import apps
from django.db import connection
from django.test import Client

from tests.authz import World

PROJECT_APPS = (
    "core",
    "advocates",
    "challenges",
    "rewards",
    "references",
    "referrals",
    "campaigns",
    "console",
)


def _models() -> list:
    # Only tables that exist: a model whose migration is not written yet is skipped.
    tables = set(connection.introspection.table_names())
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in (*PROJECT_APPS, "auth", "account")
        and not model._meta.proxy
        and model._meta.db_table in tables
    ]


_MODELS: list | None = None


def table_counts() -> dict[str, int]:
    """Rows in every table of the project's apps (and accounts): a partial write shows."""
    global _MODELS
    if _MODELS is None:
        _MODELS = _models()
    # One round trip for all tables: this runs twice per generated input.
    quote = connection.ops.quote_name
    sql = " UNION ALL ".join(
        f"SELECT {i}, COUNT(*) FROM {quote(model._meta.db_table)}"  # noqa: S608 (model tables)
        for i, model in enumerate(_MODELS)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = dict(cursor.fetchall())
    return {model._meta.label: rows[i] for i, model in enumerate(_MODELS)}


# Rows any request may write: a singleton created on first read.
INCIDENTAL = {"core.ProgramSettings"}


def changed(before: dict[str, int], after: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {
        k: (before[k], after.get(k))
        for k in before
        if before[k] != after.get(k) and k not in INCIDENTAL
    }


def user_of(world: World, role: str):
    person = getattr(world, role)
    return getattr(person, "user", person)


def client_for(world: World, role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(user_of(world, role))
    return client


# --- forms on a page --------------------------------------------------------------------


@dataclass
class FormSpec:
    action: str  # a path
    enctype: str = ""
    fields: dict[str, dict] = field(default_factory=dict)  # name -> {type, options, value}


class _FormParser(HTMLParser):
    def __init__(self, page_url: str, method: str = "post") -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.method = method
        self.forms: list[FormSpec] = []
        self._form: FormSpec | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == self.method:
                action = urlsplit(urljoin(self.page_url, a.get("action") or self.page_url)).path
                self._form = FormSpec(action=action, enctype=a.get("enctype", ""))
                self.forms.append(self._form)
            else:
                self._form = None
            return
        # hx-post buttons and forms outside a <form method=post> are not followed: every
        # htmx action here also has a plain form (house style).
        form = self._form
        if form is None or not a.get("name") or a["name"] == "csrfmiddlewaretoken":
            return
        name = a["name"]
        spec = form.fields.setdefault(name, {"type": tag, "options": [], "value": ""})
        if tag == "input":
            kind = a.get("type", "text").lower()
            spec["type"] = kind
            if kind in ("checkbox", "radio", "submit", "hidden"):
                spec["options"].append(a.get("value", "on"))
            elif a.get("value"):
                spec["options"].append(a["value"])
        elif tag == "button":
            spec["type"] = "submit"
            spec["options"].append(a.get("value", ""))
        elif tag == "select":
            self._select = name
            spec["multiple"] = "multiple" in a
        elif tag == "option" and self._select:
            form.fields[self._select]["options"].append(a.get("value", ""))
        elif tag == "textarea":
            self._textarea = name

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self._form and data.strip():
            self._form.fields[self._textarea]["options"].append(data.strip())


def forms_on(html: str, page_url: str, method: str = "post") -> list[FormSpec]:
    parser = _FormParser(page_url, method)
    parser.feed(html)
    return parser.forms


# --- every free-text column set to a payload ----------------------------------------------

# Columns that are identifiers or codes, not free text a person typed: a payload there
# would only break links the app builds from them (its own, never user-entered values).
NOT_FREE_TEXT = (
    "token", "code", "key", "nonce", "slug", "password", "hash", "secret", "email",
    "external_id", "color", "colour", "event_id", "username", "timezone", "idempot",
    "source_type", "skip_reason", "error", "filename", "template", "currency", "domain",
)  # fmt: skip


def free_text_fields(model) -> list:
    from django.db import models as m

    fields = []
    for f in model._meta.concrete_fields:
        if not isinstance(f, m.CharField | m.TextField) or f.choices or f.primary_key:
            continue
        if isinstance(f, m.EmailField) or any(part in f.name for part in NOT_FREE_TEXT):
            continue
        fields.append(f)
    return fields


def poison_free_text(payload: str, url_payload: str) -> int:
    """Set every free-text column of every row of the project's tables to ``payload``
    (URL columns to ``url_payload``), keeping each row's value unique; returns the count
    of columns written."""
    from django.db import models as m
    from django.db.models import CharField as CharOutput
    from django.db.models import Value
    from django.db.models.functions import Cast, Concat, Left

    written = 0
    for model in _models():
        if model._meta.app_label not in (*PROJECT_APPS, "advocates"):
            continue
        updates = {}
        for f in free_text_fields(model):
            text = url_payload if isinstance(f, m.URLField) else payload
            value = Concat(Value(text), Value(" #"), Cast("pk", output_field=CharOutput()))
            if f.max_length:
                value = Left(value, f.max_length)
            updates[f.name] = value
        if updates and model._default_manager.exists():
            model._default_manager.update(**updates)
            written += len(updates)
    return written


def offsite(location: str) -> bool:
    """Whether a redirect's Location leaves this site (or runs script)."""
    from urllib.parse import urlsplit as split

    cleaned = location.strip().replace("\\", "/")
    parts = split(cleaned)
    if parts.scheme and parts.scheme not in ("http", "https"):
        return True
    return bool(parts.netloc) and parts.netloc != "testserver"
