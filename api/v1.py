"""The API, version 1: read-only lists and details of the program's resources.

Each resource is a pair of GET operations, ``/<resource>`` (a page, oldest change
first, with ``updated_since`` and a cursor) and ``/<resource>/{id}``, readable with the
``<resource>:read`` scope (api.scopes). The OpenAPI document (``/api/v1/openapi.json``)
is generated from these declarations; the docs page (``/api/v1/docs``) renders it with
Swagger UI from our own static files, so it works under the site's CSP. Both hold no
data and are public.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, ValidationError
from pydantic import create_model

from advocates.selectors import advocates_for_api, companies_for_api
from api import schemas
from api.auth import APIProblem, KeyAuth
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT, page
from api.scopes import SCOPES
from challenges.selectors import challenges_for_api, submissions_for_api
from core.roles import public
from references.selectors import reference_requests_for_api
from referrals.selectors import referrals_for_api
from rewards.selectors import ledger_for_api, redemptions_for_api, rewards_for_api

PROBLEM_TYPE = "application/problem+json"


class VouchAPI(NinjaAPI):
    def create_response(
        self,
        request: HttpRequest,
        data: Any,
        *,
        status: int | None = None,
        temporal_response: HttpResponse | None = None,
    ) -> HttpResponse:
        response = super().create_response(
            request, data, status=status, temporal_response=temporal_response
        )
        rate = getattr(request, "vouch_rate", None)
        if rate is not None:
            limit, remaining, reset = rate
            response["RateLimit-Limit"] = str(limit)
            response["RateLimit-Remaining"] = str(remaining)
            response["RateLimit-Reset"] = str(reset)
        return response

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """The generated document, with each operation's security naming its scope
        (OpenAPI 3.1 lets an http scheme's requirement list the roles it needs) and errors
        typed as the problem documents they are."""
        document = super().get_openapi_schema(**kwargs)
        for operations in document["paths"].values():
            for operation in operations.values():
                scope = SCOPE_OF.get(operation.get("operationId", ""))
                if scope:
                    operation["security"] = [{"KeyAuth": [scope]}]
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if str(status).startswith("4") and "application/json" in content:
                        response["content"] = {PROBLEM_TYPE: content["application/json"]}
        return document


# operationId -> the scope it needs, filled by _resource below.
SCOPE_OF: dict[str, str] = {}

api = VouchAPI(
    title="Vouch API",
    version="1",
    description=(
        "Read-only access to the advocate program. Authenticate with an API key created "
        "in the console (`Authorization: Bearer vch_…`); each resource needs its own "
        "`<resource>:read` scope. Lists are paged by cursor, oldest change first: follow "
        "`next` until it is null, and pass `updated_since` to fetch only what changed."
    ),
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
    docs_decorator=public,
)


def _problem(request: HttpRequest, problem: APIProblem) -> HttpResponse:
    body = {"type": "about:blank", "title": problem.title, "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    response = api.create_response(request, body, status=problem.status)
    response["Content-Type"] = PROBLEM_TYPE
    for name, value in problem.headers.items():
        response[name] = value
    return response


@api.exception_handler(APIProblem)
def _on_problem(request: HttpRequest, exc: APIProblem) -> HttpResponse:
    return _problem(request, exc)


@api.exception_handler(AuthenticationError)
def _on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    # A header that is not "Bearer <key>" (KeyAuth answers the other cases itself).
    return _problem(
        request,
        APIProblem(
            401,
            "Unauthorized",
            "Send an API key: Authorization: Bearer vch_…",
            headers={"WWW-Authenticate": 'Bearer realm="vouch"'},
        ),
    )


@api.exception_handler(Http404)
def _on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _problem(request, APIProblem(404, "Not Found", "No such object."))


@api.exception_handler(ValidationError)
def _on_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'][1:]) or 'request'}: {error['msg']}"
        for error in exc.errors
    )
    return _problem(request, APIProblem(400, "Bad Request", details))


def _page_schema(item: type[Schema]) -> type[Schema]:
    return create_model(
        f"{item.__name__}Page",
        __base__=Schema,
        results=(list[item], ...),  # type: ignore[valid-type]
        next=(str | None, None),
    )


ERRORS: dict[int, type[Schema]] = {
    400: schemas.Problem,
    401: schemas.Problem,
    403: schemas.Problem,
    429: schemas.Problem,
}


def _resource(
    name: str,
    *,
    rows: Callable[[], QuerySet[Any]],
    schema: type[Schema],
    order_by: str = "updated_at",
) -> None:
    """Register GET /<name> and GET /<name>/{id}, both needing the ``<name>:read`` scope."""
    scope = f"{name}:read"
    assert scope in SCOPES, scope
    auth = KeyAuth(scope)
    noun = name.replace("-", " ")
    key = name.replace("-", "_")

    SCOPE_OF[f"{key}_list"] = SCOPE_OF[f"{key}_detail"] = scope

    def list_view(
        request: HttpRequest,
        updated_since: datetime | None = Query(  # noqa: B008 - ninja's declaration style
            None,
            description=f"Only rows whose `{order_by}` is at or after this ISO-8601 time "
            "(no offset: UTC).",
        ),
        cursor: str | None = Query(None, description="From the previous page's `next`."),
        limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    ) -> dict[str, Any]:
        return page(
            request, rows(), field=order_by, updated_since=updated_since, cursor=cursor, limit=limit
        )

    def detail_view(request: HttpRequest, id: int) -> Any:
        return get_object_or_404(rows(), pk=id)

    api.get(
        f"/{name}",
        response={200: _page_schema(schema), **ERRORS},
        auth=auth,
        operation_id=f"{key}_list",
        url_name=f"{key}_list",
        summary=f"List {noun}",
        tags=[noun],
    )(list_view)
    api.get(
        f"/{name}/{{int:id}}",
        response={200: schema, 404: schemas.Problem, **ERRORS},
        auth=auth,
        operation_id=f"{key}_detail",
        url_name=f"{key}_detail",
        summary=f"One of the {noun}",
        tags=[noun],
    )(detail_view)


_resource("advocates", rows=advocates_for_api, schema=schemas.Advocate)
_resource("companies", rows=companies_for_api, schema=schemas.Company)
_resource("challenges", rows=challenges_for_api, schema=schemas.Challenge)
_resource("submissions", rows=submissions_for_api, schema=schemas.Submission)
_resource("rewards", rows=rewards_for_api, schema=schemas.Reward)
_resource("redemptions", rows=redemptions_for_api, schema=schemas.Redemption)
_resource("referrals", rows=referrals_for_api, schema=schemas.Referral)
_resource("reference-requests", rows=reference_requests_for_api, schema=schemas.ReferenceRequest)
# The ledger is append-only: an entry never changes, so its creation time is its change time.
_resource("ledger", rows=ledger_for_api, schema=schemas.LedgerEntry, order_by="created_at")


def urls() -> tuple[list[Any], str, str]:
    """The API's URL patterns, namespace "api-v1", for config/urls.py."""
    patterns, app_name, namespace = api.urls
    # Every API view is reached by key, never by session (api.auth): none is a page for
    # the console's two-factor redirect (core.mfa) to guard.
    for pattern in patterns:
        pattern.callback.vouch_public = True  # type: ignore[union-attr]  # as core.roles.public
    return patterns, app_name, namespace
