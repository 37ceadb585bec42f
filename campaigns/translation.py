"""A campaign email's subject, body and suggested message per language
(django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from campaigns.models import Campaign


@register(Campaign)
class CampaignTranslation(TranslationOptions):
    fields = ("subject", "body", "suggested_message")
