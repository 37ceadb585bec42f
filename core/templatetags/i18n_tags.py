"""Template filters for text in the reader's language (built in: config/settings)."""

from django import template

from core.i18n import in_sentence as _in_sentence
from core.i18n import with_weekday as _with_weekday

register = template.Library()


@register.filter
def in_sentence(label) -> str:
    """``{{ ref.get_call_type_display|in_sentence }}``: a label as a word mid-sentence."""
    return _in_sentence(label)


@register.filter(expects_localtime=True)
def with_weekday(value) -> str:
    """``{{ meeting.starts_at|timezone:zone|with_weekday }}``: "Thursday, December 3, …"."""
    return _with_weekday(value) if value else ""


@register.filter(expects_localtime=True)
def with_weekday_short(value) -> str:
    """``{{ meeting.starts_at|timezone:zone|with_weekday_short }}``: "Thu Dec 3, 15:00"."""
    return _with_weekday(value, short=True) if value else ""
