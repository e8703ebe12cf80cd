"""The approvals History panel other apps embed on a document's page::

    {% load approvals %}
    {% approval_history contract %}

renders ``approvals/_document_history.html`` with every round and step (two queries).
A view that already has the history (``selectors.document_history(document)``) can include
the template itself with ``approval_history`` in its context."""

from django import template

from .. import registry, selectors

register = template.Library()


@register.inclusion_tag("approvals/_document_history.html")
def approval_history(document):
    return {"approval_history": selectors.document_history(document)}


@register.filter
def document_type_label(key):
    return registry.label_of(key)
