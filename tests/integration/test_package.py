"""The built wheel is a whole site: installed into a fresh virtualenv outside the
checkout, it migrates, collects its static files and serves pages with their styles.

Production installs this way (README: "Production"), so nothing may depend on the source
folder. The dependencies come from requirements/prod.txt, the pinned versions CI tests.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import urllib.request
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

from tests.integration.processes import (
    _wait,
    build_wheel,
    free_port,
    install_site,
    run,
    stop_process,
)

pytestmark = pytest.mark.worker  # needs Redis (a production process has a broker)

ROOT = Path(settings.BASE_DIR)


def test_the_wheel_installs_and_serves_outside_the_checkout(tmp_path: Path) -> None:
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL to run it")
    wheel = build_wheel(tmp_path / "dist")
    names = set(zipfile.ZipFile(wheel).namelist())
    # Every template and static file of the checkout, and every app's migrations.
    for folder in ("templates", "static"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file():
                assert str(path.relative_to(ROOT)) in names, f"{path} is not in the wheel"
    assert "referrals/migrations/0001_initial.py" in names

    site = tmp_path / "site"  # outside the checkout: nothing can be read from it
    site.mkdir()
    bin_ = install_site(wheel, site / "venv")

    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "DATABASE_URL": f"sqlite:///{site / 'db.sqlite3'}",
        "REDIS_URL": settings.REDIS_URL,
        "STATIC_ROOT": str(site / "staticfiles"),
        "MEDIA_ROOT": str(site / "media"),
    }
    port = free_port()
    env["SITE_URL"] = f"http://127.0.0.1:{port}"
    vouch = bin_ / "vouch"
    run(vouch, "migrate", "--noinput", "-v0", cwd=site, env=env)
    run(vouch, "collectstatic", "--noinput", "-v0", cwd=site, env=env)
    run(vouch, "check", cwd=site, env=env)
    server = subprocess.Popen(
        [bin_ / "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"],
        cwd=site,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                return urllib.request.urlopen(base + "/healthz", timeout=5).status == 200  # noqa: S310
            except OSError:
                return False

        _wait(answers, timeout=60, what="the installed site did not start")
        page = urllib.request.urlopen(base + "/accounts/login/", timeout=10)  # noqa: S310
        html = page.read().decode()
        assert page.status == 200
        assert "Sign in" in html
        stylesheet = html.split('rel="stylesheet" href="', 1)[1].split('"', 1)[0]
        assert stylesheet.startswith("/static/css/app.")  # hashed by the manifest storage
        css = urllib.request.urlopen(base + stylesheet, timeout=10)  # noqa: S310
        assert css.status == 200
        assert b"{" in css.read()
    finally:
        stop_process(server)
