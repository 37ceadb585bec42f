"""Print the current two-factor code of a demo user (development only)."""

from __future__ import annotations

import time

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.management.commands.demo_data import PEOPLE

PERIOD = 30


class Command(BaseCommand):
    help = "Print the current 6-digit authenticator code of a demo user (DEBUG only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", nargs="?", default="manager@demo.vouch")

    def handle(self, *args: object, email: str, **options: object) -> None:
        # A code generator for real accounts would defeat two-factor authentication.
        if not settings.DEBUG:
            raise CommandError("demo_totp only runs with DEBUG=true (the embedded demo).")
        if email.lower() not in {person[0] for person in PEOPLE}:
            raise CommandError(f"{email} is not a demo user.")
        authenticator = Authenticator.objects.filter(
            user__email__iexact=email, type=Authenticator.Type.TOTP
        ).first()
        if authenticator is None:
            raise CommandError(f"{email} has no authenticator app: run `manage.py demo_data`.")
        secret = decrypt(authenticator.data["secret"])
        now = int(time.time())
        code = format_hotp_value(hotp_value(secret, now // PERIOD))
        self.stdout.write(code)
        self.stderr.write(f"valid for {PERIOD - now % PERIOD} more seconds")
