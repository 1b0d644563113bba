"""Staff-written Markdown to HTML that is safe to show on any page (markdown-it-py + nh3)."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

# CommonMark with tables; raw HTML is allowed through the parser only because nh3
# sanitises everything that comes out of it.
_parser = MarkdownIt("commonmark", {"html": True}).enable("table")

# Legal texts need no images: an <img> would let a version load third-party content.
_TAGS = nh3.ALLOWED_TAGS - {"img", "map", "area"}
_URL_SCHEMES = {"http", "https", "mailto"}


def markdown_render(text: str) -> str:
    """Render Markdown and sanitise the result (no scripts, handlers or javascript: links)."""
    return nh3.clean(
        _parser.render(text),
        tags=_TAGS,
        clean_content_tags={"script", "style"},
        url_schemes=_URL_SCHEMES,
    )
