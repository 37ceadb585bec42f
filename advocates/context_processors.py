from django.conf import settings
from django.http import HttpRequest

from advocates.roles import Role, user_roles


def roles(request: HttpRequest) -> dict:
    current = user_roles(request.user)
    return {
        "program_name": settings.PROGRAM_NAME,
        "is_advocate": Role.ADVOCATE in current,
        "is_rep": Role.REP in current,
        "is_manager": Role.MANAGER in current,
    }
