from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from bizdept.org.choices import Capability
from bizdept.org.scope import capabilities_of, employee_of

# The main navigation: (url name, label, capability needed or None).
NAVIGATION = [
    ("home", _("Home"), None),
    ("customers:revisits", _("My day"), None),
    ("customers:customer_list", _("Customers"), None),
    ("customers:pool", _("Public pool"), None),
    ("customers:complaint_list", _("Complaints"), None),  # surveys are a tab there
    ("customers:market_report_list", _("Market intelligence"), None),
    ("approvals:inbox", _("Approvals"), None),  # SAL-3; badge: steps waiting for me
    ("org:employee_list", _("People"), None),
    ("org:org_chart", _("Org chart"), None),
    ("api-1.0.0:openapi-view", _("API"), None),
    ("admin:index", _("Administration"), Capability.ADMINISTER),
]


# Items with a count badge: url name -> dotted path of ``fn(user) -> int`` (one cheap query).
NAV_BADGES = {"approvals:inbox": "bizdept.approvals.selectors.inbox_count"}


def _with_badge(name, label, user):
    if name not in NAV_BADGES:
        return label
    count = import_string(NAV_BADGES[name])(user)
    if not count:
        return label
    return format_html('{} <span class="badge rounded-pill text-bg-warning nav-badge" '
                       'id="nav-badge-{}">{}</span>', label, name.replace(":", "-"), count)


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
        items.append({"url": reverse(name), "label": _with_badge(name, label, user),
                      "active": False})
    # The longest link that the current path starts with is the page we are on.
    matches = [i for i in items if current == i["url"] or (i["url"] != "/"
                                                           and current.startswith(i["url"]))]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    return {"nav_items": items, "me": employee_of(user), "my_capabilities": caps,
            "today": timezone.localdate()}
