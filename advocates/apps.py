from django.apps import AppConfig

from core import fragments


class AdvocatesConfig(AppConfig):
    name = "advocates"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # What advocates' cached pages show of these rows (core.fragments).
        from advocates import models  # noqa: PLC0415 - models are ready only now

        def advocate_of_user(user: models.User) -> int | None:
            return (
                models.Advocate.objects.filter(user_id=user.pk).values_list("pk", flat=True).first()
            )

        # A sign-in saves last_login only: nothing a page shows. The name is on the
        # leaderboards (the points table's scope).
        fragments.track(
            models.User,
            advocate=advocate_of_user,
            scopes=[fragments.Scope.POINTS],
            ignore_fields=frozenset({"last_login"}),
        )
        fragments.track(
            models.Advocate, advocate=lambda advocate: advocate.pk, scopes=[fragments.Scope.POINTS]
        )
        fragments.track(models.Notification, advocate=lambda row: row.advocate_id)
        fragments.track(
            models.GroupMembership,
            advocate=lambda row: row.advocate_id,
            scopes=[fragments.Scope.COMMUNITY],
        )
        # Rare, program-wide: names and audiences many fragments show.
        for model in (models.Company, models.Product, models.Tag, models.CommunityGroup):
            fragments.track(model, everything=True)
        fragments.track_advocates_m2m(models.Advocate.tags.through, models.Advocate)
        fragments.track_advocates_m2m(models.Advocate.products.through, models.Advocate)
        # The console's lists (program-wide): the advocates and users as staff see
        # them, and who the reps are (a role is a group).
        people = [fragments.Scope.PEOPLE]
        fragments.track(models.Advocate, scopes=people)
        fragments.track(models.User, scopes=people, ignore_fields=frozenset({"last_login"}))
        fragments.track_m2m(models.User.groups.through, scopes=people)
