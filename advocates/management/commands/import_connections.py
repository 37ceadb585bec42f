"""Import a LinkedIn ``Connections.csv`` into the relationship graph for one owner."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from advocates.services import graph


class Command(BaseCommand):
    help = (
        "Import the LinkedIn connections export (Connections.csv) of the person with "
        "--owner EMAIL: people are merged by email, else LinkedIn URL; bad rows are listed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the Connections.csv file")
        parser.add_argument(
            "--owner", required=True, help="email of the advocate or colleague it belongs to"
        )

    def handle(self, *args: object, path: Path, owner: str, **options: object) -> None:
        person = graph.person_for_email(owner)
        if person is None:
            raise CommandError(f"No advocate, colleague or person has the email {owner}.")
        try:
            file = path.open(encoding="utf-8-sig", newline="")
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        # Read as it is imported, with no row cap: the command line takes any size.
        with file:
            try:
                result = graph.connections_import(owner=person, source=file, max_rows=None)
            except UnicodeDecodeError:
                raise CommandError("The file is not UTF-8 text.") from None
        for line, reason in result.errors:
            self.stderr.write(f"line {line}: {reason}" if line else reason)
        for line, reason in result.duplicates:
            self.stdout.write(f"line {line}: skipped, {reason}")
        self.stdout.write(
            f"{person}: {result.edges_created} new connection(s), "
            f"{result.edges_existing} already known, {result.people_created} new people, "
            f"{result.interests_added} interest(s) added, {result.job_changes} job change(s), "
            f"{len(result.duplicates)} duplicate(s), {len(result.errors)} bad row(s)."
        )
        if result.errors and not result.imported:
            raise CommandError("Nothing was imported.")
