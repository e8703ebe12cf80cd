"""Account pages: profile with API tokens, language choice."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .errors import DomainError
from .models import ApiToken
from .services import api_token_create, api_token_revoke, user_set_language


@login_required
def profile(request):
    """My account: my employee card, my position's duties, password and API tokens."""
    new_key = None
    errors = {}
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "create_token":
                token, new_key = api_token_create(user=request.user,
                                                  name=request.POST.get("name", ""))
                messages.success(request, _("Token “%s” created. Copy it now: it will not be "
                                            "shown again.") % token.name)
            elif action == "revoke_token":
                api_token_revoke(user=request.user,
                                 token_id=_int(request.POST.get("token_id")))
                messages.success(request, _("Token revoked."))
                return HttpResponseRedirect(reverse("profile"))
        except DomainError as exc:
            errors = exc.error_dict()
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "core/profile.html",
                  {"tokens": tokens, "new_key": new_key, "errors": errors})


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@require_POST
def set_language(request):
    """Switch language; a signed-in user's choice is remembered on their account."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()},
                                           require_https=request.is_secure()):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        user_set_language(user=request.user, language=language)
    translation.activate(language)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language,
                        max_age=365 * 24 * 3600, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE)
    return response
