"""SAL-3: the approval engine. Apps declare their document types with ``register``; see
``registry`` for the interface and ``services`` for submitting and deciding."""

from .registry import register, unregister

__all__ = ["register", "unregister"]
