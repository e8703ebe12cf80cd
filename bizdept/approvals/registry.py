"""The document types the engine approves, declared by the apps that own them.

The engine never imports those apps: each registers its type, usually from its
``AppConfig.ready()``::

    from bizdept import approvals

    approvals.register(
        "sales.contract", model=Contract, label=_("Contract"),
        title=lambda c: c.number, amount=lambda c: c.total, requester=lambda c: c.owner,
        on_approved=contract_approved, on_rejected=contract_rejected,
        on_returned=contract_returned, url=lambda c: reverse("sales:contract_detail", args=[c.pk]),
    )

The callbacks take the document and run inside the decision's transaction: what they do
to the document commits (or rolls back) with the decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured

Callback = Callable[[Any], Any]


def _nothing(document) -> None:
    return None


@dataclass(frozen=True)
class DocumentType:
    key: str
    model: type
    label: Any
    title: Callable[[Any], str]
    on_approved: Callback
    on_rejected: Callback
    on_returned: Callback
    on_cancelled: Callback = _nothing
    amount: Callable[[Any], Decimal | None] | None = None
    requester: Callable[[Any], Any] | None = None
    url: Callable[[Any], str] | None = None

    def amount_of(self, document) -> Decimal | None:
        if self.amount is None:
            return None
        value = self.amount(document)
        return None if value is None else Decimal(str(value))

    def url_of(self, document) -> str:
        return self.url(document) if self.url is not None and document is not None else ""


_TYPES: dict[str, DocumentType] = {}


def register(document_type: str, *, model, title, on_approved, on_rejected, on_returned,
             amount=None, requester=None, label=None, url=None,
             on_cancelled=None) -> DocumentType:
    """Declare a document type. Registering the same key again for the same model replaces
    the entry (autoreload, tests); for another model it is a configuration error."""
    existing = _TYPES.get(document_type)
    if existing is not None and existing.model is not model:
        raise ImproperlyConfigured(
            f"Approval document type {document_type!r} is already registered for "
            f"{existing.model.__name__}.")
    for name, fn in (("title", title), ("on_approved", on_approved),
                     ("on_rejected", on_rejected), ("on_returned", on_returned)):
        if not callable(fn):
            raise ImproperlyConfigured(f"{document_type}: {name} must be callable.")
    entry = DocumentType(
        key=document_type, model=model, label=label or document_type, title=title,
        on_approved=on_approved, on_rejected=on_rejected, on_returned=on_returned,
        on_cancelled=on_cancelled or _nothing, amount=amount, requester=requester, url=url)
    _TYPES[document_type] = entry
    return entry


def unregister(document_type: str) -> None:
    """Forget a type (a test's document type); unknown keys are fine."""
    _TYPES.pop(document_type, None)


def get(document_type: str) -> DocumentType | None:
    return _TYPES.get(document_type)


def for_document(document) -> DocumentType:
    """The registered type of a document instance; exactly one must match its model."""
    matches = [t for t in _TYPES.values() if isinstance(document, t.model)]
    if len(matches) != 1:
        raise ImproperlyConfigured(
            f"{type(document).__name__} is registered as {len(matches)} approval document "
            "types; pass document_type= to say which.")
    return matches[0]


def label_of(document_type: str):
    entry = _TYPES.get(document_type)
    return entry.label if entry is not None else document_type


def registered() -> dict[str, DocumentType]:
    return dict(_TYPES)
