"""Template helpers of the sales pages (money itself is the builtin ``money`` filter of
``bizdept.core.templatetags.figures``)."""

from django import template

from bizdept.sales.pricing import margin_rate as _margin_rate

register = template.Library()


@register.simple_tag
def margin_rate(price, cost) -> str:
    rate = _margin_rate(price, cost)
    return "—" if rate is None else f"{rate}%"
