from django import template

from core.csv import upload_limits_text

register = template.Library()


@register.simple_tag
def csv_upload_limits() -> str:
    """The limits of a CSV upload, as the upload forms state them."""
    return upload_limits_text()
