from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bizdept.org.choices import Capability
from bizdept.org.scope import capabilities_of, employee_of

# The main navigation: (url name, label, capability needed or None).
NAVIGATION = [
    ("home", _("Home"), None),
    ("customers:revisits", _("My day"), None),
    ("customers:customer_list", _("Customers"), None),
    ("customers:pool", _("Public pool"), None),
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
        items.append({"url": reverse(name), "label": label, "active": False})
    # The longest link that the current path starts with is the page we are on.
    matches = [i for i in items if current == i["url"] or (i["url"] != "/"
                                                           and current.startswith(i["url"]))]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    return {"nav_items": items, "me": employee_of(user), "my_capabilities": caps,
            "today": timezone.localdate()}
