"""One domain error for every app: a stable code, a user-readable message, field errors.

Services raise it; pages show its message next to the field; the API answers
``{"detail": message, "errors": {field: [messages]}}`` with its status.
"""

from django.core.exceptions import ValidationError


class DomainError(Exception):
    status = 400

    def __init__(self, message, *, code: str = "invalid", field: str | None = None, errors=None):
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.errors: dict[str, list] = dict(errors or {})
        if field:
            self.errors.setdefault(field, []).append(message)

    def error_dict(self) -> dict[str, list[str]]:
        return {field: [str(m) for m in msgs] for field, msgs in self.errors.items()}


class Conflict(DomainError):
    """Somebody else changed or took the thing first (409)."""

    status = 409


def validation_error_dict(exc: ValidationError) -> dict[str, list[str]]:
    """Django's ValidationError as ``{field: [messages]}``; non-field errors under ``__all__``."""
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in ValidationError(errs).messages]
                for field, errs in exc.error_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}
