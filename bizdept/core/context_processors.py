from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from bizdept.org.choices import Capability
from bizdept.org.scope import capabilities_of, employee_of

# The main navigation: (url name, label, capability needed or None).
NAVIGATION = [
    ("home", _("Home"), None),
    ("org:employee_list", _("People"), None),
    ("org:org_chart", _("Org chart"), None),
    ("api-1.0.0:openapi-view", _("API"), None),
    ("admin:index", _("Administration"), Capability.ADMINISTER),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    caps = capabilities_of(user)
    current = request.path
    items = []
    for name, label, capability in NAVIGATION:
        if capability and capability not in caps:
            continue
        url = reverse(name)
        active = current == url if name == "home" else current.startswith(url)
        items.append({"url": url, "label": label, "active": active})
    return {"nav_items": items, "me": employee_of(user), "my_capabilities": caps}
