from django.http import JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _


class UserLanguageMiddleware:
    """Speak each signed-in user's remembered language, whatever the browser asks for."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


class ApiErrorBodyMiddleware:
    """Under /api/ every error has the one JSON body, including the 404 of an unknown path
    and the 405 of a wrong method, which Django and ninja answer in HTML."""

    MESSAGES = {404: lambda: _("Not found."), 405: lambda: _("This method is not allowed here.")}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            # No endpoint takes a list in its query: a parameter given twice would be
            # silently read as one of its values, so it is refused like any bad input.
            repeated = sorted(k for k in request.GET if len(request.GET.getlist(k)) > 1)
            if repeated:
                return JsonResponse({"detail": str(_("The request is not valid.")),
                                     "errors": {k: [str(_("Give this parameter once."))]
                                                for k in repeated}}, status=422)
        response = self.get_response(request)
        if (request.path.startswith("/api/") and response.status_code in self.MESSAGES
                and "json" not in response.get("Content-Type", "")):
            replaced = JsonResponse({"detail": str(self.MESSAGES[response.status_code]()),
                                     "errors": {}}, status=response.status_code)
            if "Allow" in response:
                replaced["Allow"] = response["Allow"]
            return replaced
        return response
