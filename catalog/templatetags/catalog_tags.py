from django import template

from catalog.markup import render_description

register = template.Library()


@register.filter
def description(text: str):
    """Markdown rendered and sanitised (see catalog/markup.py)."""
    return render_description(text)
