"""API conventions shared by every app's router (DESIGN: one error body everywhere).

* Auth: the browser session (with CSRF on writes) or a personal token sent as
  ``Authorization: Bearer bd_…``; only the token's SHA-256 is stored.
* Errors: ``{"detail": "...", "errors": {"field": ["message"]}}`` for every 4xx.
* Lists: ``{"items": [...], "count": N, "page": P, "page_size": S}``.
"""

from __future__ import annotations

import datetime
import logging
import re
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import PaginationBase
from ninja.security import HttpBearer, django_auth
from pydantic import BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

from .errors import DomainError, validation_error_dict
from .models import ApiToken, hash_token

log = logging.getLogger(__name__)


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(default_factory=dict)


ERRORS: dict[int, Any] = {
    400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut,
}


def authenticate_token(raw: str):
    """The active user behind a personal token, or None. Marks the token as used."""
    if not raw or not raw.startswith("bd_") or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.active().select_related(
            "user", "user__employee__unit", "user__employee__position")
        .filter(key_hash=hash_token(raw)).first()
    )
    if token is None:
        return None
    user = token.user
    from .backends import EmployeeBackend

    if not EmployeeBackend().user_can_authenticate(user):
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return user


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        user = authenticate_token(token)
        if user is not None:
            request.user = user
        return user


AUTH = [TokenAuth(), django_auth]


class PageInput(Schema):
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(settings.BIZDEPT_PAGE_SIZE, ge=1, le=settings.BIZDEPT_MAX_PAGE_SIZE)


class Paginated(PaginationBase):
    """Page-number pagination with the total count."""

    class Input(PageInput):
        pass

    class Output(Schema):
        items: list[Any]
        count: int
        page: int
        page_size: int

    items_attribute = "items"

    def paginate_queryset(self, queryset, pagination: Input, **params):
        offset = (pagination.page - 1) * pagination.page_size
        return {
            "items": list(queryset[offset: offset + pagination.page_size]),
            "count": queryset.count(),
            "page": pagination.page,
            "page_size": pagination.page_size,
        }


class Mapped:
    """A queryset the paginator slices and counts, each page mapped to output dicts."""

    def __init__(self, queryset, fn):
        self.queryset, self.fn = queryset, fn

    def count(self) -> int:
        return self.queryset.count()

    def __getitem__(self, item):
        return [self.fn(obj) for obj in self.queryset[item]]


def input_error_message(err: dict) -> str:
    """pydantic's message for one input error, in the user's language."""
    ctx = err.get("ctx") or {}
    kind = err.get("type", "")
    messages = {
        "missing": lambda: _("This field is required."),
        "int_parsing": lambda: _("Enter a whole number."),
        "int_type": lambda: _("Enter a whole number."),
        "int_from_float": lambda: _("Enter a whole number."),
        "greater_than_equal": lambda: _("Must be at least %s.") % ctx.get("ge"),
        "greater_than": lambda: _("Must be more than %s.") % ctx.get("gt"),
        "less_than_equal": lambda: _("Must be at most %s.") % ctx.get("le"),
        "less_than": lambda: _("Must be less than %s.") % ctx.get("lt"),
        "string_too_long": lambda: _("At most %s characters.") % ctx.get("max_length"),
        "string_too_short": lambda: _("At least %s characters.") % ctx.get("min_length"),
        "string_pattern_mismatch": lambda: _("Contains characters that are not allowed."),
        "literal_error": lambda: _("Must be one of: %s.") % ctx.get("expected", ""),
        "enum": lambda: _("Must be one of: %s.") % ctx.get("expected", ""),
        "date_parsing": lambda: _("Enter a valid date (YYYY-MM-DD)."),
        "date_from_datetime_parsing": lambda: _("Enter a valid date (YYYY-MM-DD)."),
        "bool_parsing": lambda: _("Enter true or false."),
        "json_invalid": lambda: _("The request body is not valid JSON."),
        "extra_forbidden": lambda: _("This field is not accepted here."),
        "model_type": lambda: _("Send a JSON object."),
        "model_attributes_type": lambda: _("Send a JSON object."),
        "dict_type": lambda: _("Send a JSON object."),
        "string_type": lambda: _("Enter text."),
        "float_type": lambda: _("Enter a number."),
        "float_parsing": lambda: _("Enter a number."),
        "decimal_parsing": lambda: _("Enter a number."),
        "decimal_type": lambda: _("Enter a number."),
        "bool_type": lambda: _("Enter true or false."),
        "date_type": lambda: _("Enter a valid date (YYYY-MM-DD)."),
        "datetime_parsing": lambda: _("Enter a valid date and time (ISO 8601)."),
        "datetime_type": lambda: _("Enter a valid date and time (ISO 8601)."),
        "list_type": lambda: _("Send a list."),
        "too_long": lambda: _("Too many items (at most %s).") % ctx.get("max_length"),
        "too_short": lambda: _("Too few items (at least %s).") % ctx.get("min_length"),
    }
    return str(messages[kind]()) if kind in messages else str(err.get("msg", ""))


def _error(api, request, status: int, detail, errors=None):
    return api.create_response(request, {"detail": str(detail), "errors": errors or {}},
                               status=status)


def install_error_handlers(api) -> None:
    """Map every failure a client can cause to the one error body."""

    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        return _error(api, request, exc.status, exc.message, exc.error_dict())

    @api.exception_handler(DjangoValidationError)
    def django_validation_error(request, exc):
        errors = validation_error_dict(exc)
        return _error(api, request, 400, next(iter(errors.values()))[0], errors)

    @api.exception_handler(NinjaValidationError)
    def ninja_validation_error(request, exc: NinjaValidationError):
        errors: dict[str, list[str]] = {}
        for err in exc.errors:
            loc = list(err.get("loc", ()))
            if len(loc) > 2 and loc[0] == "body":
                loc = loc[2:]  # ("body", "payload", "name") names the field "name"
            loc = [str(p) for p in loc if p not in ("query", "body", "path", "form")]
            errors.setdefault(".".join(loc) or "__all__", []).append(input_error_message(err))
        return _error(api, request, 422, _("The request is not valid."), errors)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return _error(api, request, 401, _("Sign in or send a valid API token."))

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        # The record is in scope (or a 404 would have come first); the role does not allow
        # this action on it.
        return _error(api, request, 403, _("Your role does not allow this."))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return _error(api, request, 404, _("Not found."))

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        return _error(api, request, exc.status_code, exc.message)

    @api.exception_handler(MultiPartParserError)
    @api.exception_handler(SuspiciousOperation)  # a body too big, too many fields…
    def unreadable_body(request, exc):
        return _error(api, request, 400, _("The request body could not be read."))

    @api.exception_handler(Exception)
    def server_error(request, exc):  # pragma: no cover - a bug, logged and hidden
        log.exception("API error on %s", request.path)
        return _error(api, request, 500, _("Something went wrong on our side."))


# --- input types every router uses ----------------------------------------------------
# NUL is refused everywhere: PostgreSQL cannot store it.
_NO_NUL = r"^[^\x00]*$"
MAX_ID = 2**62


def Text(max_length: int, min_length: int = 0):  # noqa: N802 - reads like a type
    return Annotated[str, Field(min_length=min_length or None, max_length=max_length,
                                pattern=_NO_NUL)]


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]


def json_int(value):
    # In JSON (and JSON Schema) 7.0 is the integer 7; "7" and true are not numbers.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


BodyId = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(json_int)]

# Dates and times are ISO 8601 text and nothing else: pydantic would also read a number as
# seconds since 1970 ("until=0" as 1970-01-01), which no client means.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?")


def _parsed(pattern, parse, kind):
    def parse_iso(value):
        if isinstance(value, str):
            try:
                if pattern.fullmatch(value):
                    return parse(value)
            except ValueError:
                pass
            raise PydanticCustomError(kind, "Input should be a valid ISO 8601 value")
        return value  # anything else is left to the (strict) type check, which refuses it
    return BeforeValidator(parse_iso)


IsoDate = Annotated[datetime.date,
                    _parsed(_ISO_DATE, datetime.date.fromisoformat, "date_parsing")]
IsoDateTime = Annotated[datetime.datetime, _parsed(
    _ISO_DATETIME, datetime.datetime.fromisoformat, "datetime_parsing")]


def _query_bool(value):
    # "true"/"false" only; pydantic would also take "yes", "on", "1", "t"...
    if isinstance(value, str):
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise PydanticCustomError("bool_parsing", "Input should be a valid boolean")
    return value


QueryBool = Annotated[bool, BeforeValidator(_query_bool)]

class BodyIn(Schema):
    """A JSON object with only the fields declared. Unknown fields are refused rather than
    ignored (a client sending ``owner`` to PATCH must not believe it changed the owner),
    and so is anything but an object: ninja reads a body's fields as attributes, so a list
    would otherwise pass as an empty body, which an all-optional PATCH accepts. Strict:
    "1" is not a number and "yes" is not true in JSON."""

    model_config = ConfigDict(extra="forbid", strict=True)



def body_ref(rows, pk, field: str, message):
    """The row a body names by id among ``rows`` (scope them: a row the user may not see
    is unknown too); an unknown id is a bad value of that field (400), never a 500."""
    if pk is None:
        return None
    found = rows.filter(pk=pk).first()
    if found is None:
        raise DomainError(message, field=field, code="unknown")
    return found


def filter_errors(filterset) -> DomainError:
    errors = {name: [str(m) for m in msgs] for name, msgs in filterset.errors.items()}
    return DomainError(next(iter(errors.values()))[0] if errors else _("Invalid filter."),
                       code="invalid_filter", errors=errors)


__all__ = ["AUTH", "ERRORS", "ErrorOut", "Paginated", "PageInput", "install_error_handlers",
           "filter_errors", "Mapped", "Text", "Id", "ObjectId", "BodyId", "BodyIn", "IsoDate",
           "IsoDateTime", "QueryBool", "json_int"]
