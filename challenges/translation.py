"""A challenge's title and description per language (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from challenges.models import Challenge


@register(Challenge)
class ChallengeTranslation(TranslationOptions):
    fields = ("title", "description")
