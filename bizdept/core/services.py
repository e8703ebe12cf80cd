"""Writes of the kernel: audited saves for every app, API tokens, language choice."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import DomainError, validation_error_dict
from .models import ApiToken, hash_token

MAX_TOKENS_PER_USER = 20


def audited_save(instance, *, by=None, exclude=None, validate_constraints=True):
    """Validate and save one business record, naming ``by`` in its history (ORG-5).

    ``by`` is the acting user or employee. Django's ValidationError becomes a DomainError
    carrying the field messages, so nothing half-valid is written.
    """
    try:
        instance.full_clean(exclude=exclude, validate_constraints=validate_constraints)
    except ValidationError as exc:
        errors = validation_error_dict(exc)
        first = next(iter(errors.values()))[0]
        raise DomainError(first, code="invalid", errors=errors) from exc
    user = getattr(by, "user", by)
    if user is not None:
        instance._history_user = user
    instance.save()
    return instance


def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """Create a personal token; its key is returned once and only its hash is kept."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the token a name."), field="name", code="required")
    if len(name) > 100:
        raise DomainError(_("The name is too long (100 characters at most)."), field="name")
    if ApiToken.objects.active().filter(user=user).count() >= MAX_TOKENS_PER_USER:
        raise DomainError(_("You already have %d tokens; revoke one first.")
                          % MAX_TOKENS_PER_USER, field="name", code="too_many")
    key = ApiToken.new_key()
    token = ApiToken.objects.create(user=user, name=name, prefix=key[:10],
                                    key_hash=hash_token(key))
    return token, key


def api_token_revoke(*, user, token_id: int) -> None:
    """Revoke one of the user's own tokens; anybody else's answers 404."""
    updated = ApiToken.objects.active().filter(user=user, pk=token_id).update(
        revoked_at=timezone.now())
    if not updated:
        raise Http404


def user_set_language(*, user, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise DomainError(_("Unknown language."), field="language")
    if user.is_authenticated and user.language != language:
        user.language = language
        user.save(update_fields=["language"])
