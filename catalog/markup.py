"""Descriptions are Markdown, rendered safely: Python-Markdown turns the text into HTML,
then nh3 (a strict HTML sanitiser) keeps only a small allow-list of tags and attributes
and http(s)/mailto links. Stored HTML or script never runs; links get rel=noopener."""

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

TAGS = {"p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "a", "h3", "h4"}
ATTRIBUTES = {"a": {"href", "title"}}
SCHEMES = {"http", "https", "mailto"}


def render_description(text: str) -> SafeString:
    html = markdown.markdown(text or "", extensions=[], output_format="html")
    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 with the allow-list above
