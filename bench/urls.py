"""The project's URLs plus two yardsticks that exist only under ``bench.settings``:

- ``/bench/bare``: no database, no template, no session (the ceiling every page's
  throughput is a ratio to);
- ``/bench/signed-in``: the floor of every signed-in page: the middleware, the session
  and the user read from the database, the roles for the navigation, and the site's
  layout (``base.html``) with nothing in it.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


@login_required
def signed_in(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html")


urlpatterns = [
    path("bench/bare", bare, name="bench_bare"),
    path("bench/signed-in", signed_in, name="bench_signed_in"),
    *project_urlpatterns,
]
