"""``{% layout_cache name var... %}...{% endlayout_cache %}``: a part of the site's
layout (base.html) rendered once per web process for each set of values it depends on.

The layout is the same on every page for a given language, program branding, reader
and navigation state, yet rendering its ~500 template nodes was the largest part of
what every signed-in page pays before its own work (issue 20). The HTML is kept in the
process's memory under the values of ``var...``, which the page reads anyway, so it can
never be stale: a renamed program or a changed role is another key. Everything the
part shows must therefore be in ``var...``, except the CSRF token, which is rendered as
a placeholder and replaced on the way out (each reader keeps their own token).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

CSRF_PLACEHOLDER = "vouch-layout-csrf-placeholder-2d81"
# Parts kept per process (a key per language × branding × reader × page state).
MAX_PARTS = 4096


class _Parts:
    lock = threading.Lock()
    html: OrderedDict[tuple[str, ...], str] = OrderedDict()


def clear() -> None:
    with _Parts.lock:
        _Parts.html.clear()


class LayoutCacheNode(template.Node):
    def __init__(self, name: str, nodelist: NodeList, vary: list[FilterExpression]) -> None:
        self.name = name
        self.nodelist = nodelist
        self.vary = vary

    def render(self, context: template.Context) -> SafeString:
        key = (self.name, *(str(value.resolve(context)) for value in self.vary))
        html = _Parts.html.get(key)
        if html is None:
            with context.push(csrf_token=CSRF_PLACEHOLDER):
                html = self.nodelist.render(context)
            with _Parts.lock:
                _Parts.html[key] = html
                if len(_Parts.html) > MAX_PARTS:
                    _Parts.html.popitem(last=False)
        if CSRF_PLACEHOLDER in html:
            html = html.replace(CSRF_PLACEHOLDER, str(context.get("csrf_token", "")))
        return mark_safe(html)


@register.tag
def layout_cache(parser: Parser, token: Token) -> LayoutCacheNode:
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("layout_cache needs a name")
    nodelist = parser.parse(("endlayout_cache",))
    parser.delete_first_token()
    return LayoutCacheNode(bits[1], nodelist, [parser.compile_filter(bit) for bit in bits[2:]])


def parts_cached() -> Any:
    """How many parts this process keeps (tests)."""
    return len(_Parts.html)
