"""A reward's name and description per language (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from rewards.models import Reward


@register(Reward)
class RewardTranslation(TranslationOptions):
    fields = ("name", "description")
