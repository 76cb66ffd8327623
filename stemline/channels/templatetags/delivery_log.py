"""Template filters of the delivery log."""

from django import template

from stemline.channels.delivery import shown_error

register = template.Library()


@register.filter
def error_category(error: str) -> str:
    """A delivery error as a tenant may read it: a short category, never raw socket text."""
    return shown_error(error)
