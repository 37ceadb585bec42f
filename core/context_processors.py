from functools import cache

from django.http import HttpRequest
from django.utils.functional import lazy

from core.branding import brand_version, logo_url
from core.models import ProgramSettings
from core.roles import Role, user_roles


def roles(request: HttpRequest) -> dict:
    current = user_roles(request.user)
    return {
        **_branding(),
        "is_advocate": Role.ADVOCATE in current,
        "is_rep": Role.REP in current,
        "is_manager": Role.MANAGER in current,
    }


def _branding() -> dict:
    """The program's name, logo and colour (one cached row), read only if a template
    uses them: htmx fragments and polled progress bars never touch the cache for them."""
    program = cache(ProgramSettings.load)
    return {
        "program_name": lazy(lambda: program().display_name, str)(),
        "program_logo_url": lazy(lambda: logo_url(program()), str)(),
        "brand_color": lazy(lambda: program().primary_color, str)(),
        "brand_version": lazy(lambda: brand_version(program()), str)(),
    }
