"""A URLconf with a view that fails, for the error-reporting test."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from core.roles import public


@public
def boom(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(1 / 0))


urlpatterns = [path("boom/", boom), path("", include("config.urls"))]
