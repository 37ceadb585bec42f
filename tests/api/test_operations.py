"""Every operation of the OpenAPI document, as each kind of caller.

The operations come from the generated document itself, so an endpoint added later is
checked without anyone remembering to list it: no key → 401, a revoked or expired key
→ 401, a key without the operation's scope → 403, a key with it → 200.
"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone
from openapi_spec_validator import validate

from api.scopes import SCOPES
from api.services import api_key_revoke
from api.v1 import api
from tests.api.factories import api_key, bearer

pytestmark = pytest.mark.django_db


def _document() -> dict:
    return Client().get("/api/v1/openapi.json").json()


def _operations() -> list[tuple[str, str]]:
    """(path, the scope it needs) for every GET operation of the document (generated here:
    the parametrization runs at collection, before a request can be made)."""
    found = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            assert method == "get", f"{method.upper()} {path}: the API is read-only"
            (requirement,) = operation["security"]
            (scopes,) = requirement.values()
            found.append((path, scopes[0]))
    return found


def _url(path: str, program: dict[str, int]) -> str:
    resource = path.removeprefix("/api/v1/").split("/")[0]
    return path.replace("{id}", str(program[resource]))


def test_the_openapi_document_validates() -> None:
    document = _document()
    validate(document)  # raises on an invalid OpenAPI 3.1 document
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["KeyAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }


def test_every_resource_has_a_list_and_a_detail_with_its_own_scope() -> None:
    served = {
        (path, operation["security"][0]["KeyAuth"][0])
        for path, operations in _document()["paths"].items()
        for operation in operations.values()
    }
    assert served == set(_operations())
    operations = dict(_operations())
    assert len(operations) == 2 * len(SCOPES)
    for scope in SCOPES:
        resource = scope.removesuffix(":read")
        assert operations[f"/api/v1/{resource}"] == scope
        assert operations[f"/api/v1/{resource}/{{id}}"] == scope


@pytest.mark.parametrize("operation", _operations(), ids=lambda op: op[0])
def test_operation_checks_key_and_scope(operation: tuple[str, str], program, client) -> None:
    path, scope = operation
    url = _url(path, program)
    _key, good = api_key([scope])
    _key, other = api_key([s for s in SCOPES if s != scope])
    revoked_key, revoked = api_key([scope])
    api_key_revoke(key_id=revoked_key.pk, by=None)
    _key, expiring = api_key([scope], expires_at=timezone.now() + timedelta(hours=1))

    response = client.get(url)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert client.get(url, **bearer("vch_not-a-key")).status_code == 401
    assert client.get(url, HTTP_AUTHORIZATION=f"Basic {good}").status_code == 401
    response = client.get(url, **bearer(revoked))
    assert response.status_code == 401
    assert response.json()["detail"] == "This API key was revoked."
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(hours=2)):
        response = client.get(url, **bearer(expiring))
    assert response.status_code == 401
    assert response.json()["detail"] == "This API key has expired."
    response = client.get(url, **bearer(other))
    assert response.status_code == 403
    assert response.json() == {
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "detail": f"This API key lacks the scope {scope}.",
    }
    response = client.get(url, **bearer(good))
    assert response.status_code == 200, response.content
    assert client.get(url, **bearer(expiring)).status_code == 200


def test_a_signed_in_manager_without_a_key_is_refused(manager_client, program) -> None:
    # The API answers to keys only: a console session does not read it.
    assert manager_client.get("/api/v1/advocates").status_code == 401


def test_the_docs_page_loads_its_assets_from_this_site(client) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "https://" not in html  # no CDN: the CSP allows scripts from 'self' only
    assert "script-src 'self'" in response["Content-Security-Policy"]
