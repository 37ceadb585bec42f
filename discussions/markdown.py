"""Markdown to safe HTML, once, when a post is saved.

markdown-it-py in CommonMark mode with raw HTML disabled (so ``<script>`` is text),
then nh3 (ammonia) keeps only the tags and attributes below, drops any URL scheme but
http, https and mailto (``javascript:`` links lose their href) and marks every link
``rel="nofollow noopener"``: posts are user content, links in them earn no ranking.
Images are not kept: a remote image would tell its owner who read the page.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark", {"html": False})

TAGS = {
    "p", "br", "hr", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render(text: str) -> str:
    return nh3.clean(
        _MD.render(text),
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener",
    )
