from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from bizdept.org.choices import Capability
from bizdept.org.scope import capabilities_of, employee_of

# The main navigation: (url name, label, capability needed or None); a group is
# (its key, label, [items]) and shows as a dropdown. Keep the top level short: it must fit
# one line at 1280 px in both languages (and folds behind the toggler on a phone).
NAVIGATION = [
    ("home", _("Home"), None),
    ("customers:revisits", _("My day"), None),
    ("customers", _("Customers"), [
        ("customers:customer_list", _("Customers"), None),
        ("customers:pool", _("Public pool"), None),
        ("customers:field_reports", _("Field reports"), None),
        ("customers:complaint_list", _("Complaints"), None),  # surveys are a tab there
        ("customers:market_report_list", _("Market intelligence"), None),
    ]),
    ("sales", _("Sales"), [  # SAL
        ("sales:product_list", _("Products"), None),
        ("sales:opportunity_list", _("Opportunities"), None),  # SAL-2
        ("sales:opportunity_funnel", _("Funnel"), None),
        ("sales:expense_mine", _("Expenses"), None),  # SAL-7
        ("sales:number_list", _("Contract numbers"), None),
        ("sales:contract_list", _("Contracts"), None),  # SAL-5
        ("sales:receivables", _("Receivables"), None),  # SAL-6
    ]),
    ("targets", _("Targets"), [  # TGT
        ("targets:my_targets", _("My targets"), None),  # TGT-5
        ("targets:tracking", _("Target tracking"), None),
        ("targets:rankings", _("Rankings"), None),  # TGT-6
        ("targets:plan_list", _("Target plans"), None),  # TGT-1..4
    ]),
    ("appraisal", _("Appraisal"), [  # PER-2..5
        ("appraisal:my_appraisals", _("My appraisals"), None),
        ("appraisal:team", _("My team's appraisals"), None),
        ("appraisal:cycle_list", _("Appraisal cycles"), None),
        ("appraisal:template_list", _("Scorecard templates"), None),
        ("kpi:library", _("KPI library"), None),  # PER-1
    ]),
    ("incentives", _("Incentives"), [  # INC-1..3
        ("incentives:my_bonus", _("My bonus"), None),  # INC-2
        ("incentives:run_list", _("Bonus runs"), None),
        ("incentives:plan_list", _("Bonus plans"), None),  # INC-1
        ("incentives:award_list", _("Awards and honors"), None),  # INC-3
    ]),
    ("approvals:inbox", _("Approvals"), None),  # SAL-3; badge: steps waiting for me
    ("organization", _("Organization"), [
        ("org:employee_list", _("People"), None),
        ("org:org_chart", _("Org chart"), None),
    ]),
    ("api-1.0.0:openapi-view", _("API"), None),
    ("admin:index", _("Administration"), Capability.ADMINISTER),
]


# Items with a count badge: url name -> dotted path of ``fn(user) -> int`` (one cheap query).
NAV_BADGES = {"approvals:inbox": "bizdept.approvals.selectors.inbox_count"}


def _badge(name, user) -> int:
    return import_string(NAV_BADGES[name])(user) if name in NAV_BADGES else 0


def _items(entries, user, caps) -> list[dict]:
    items = []
    for name, label, rest in entries:
        if isinstance(rest, list):
            children = _items(rest, user, caps)
            if children:
                items.append({"label": label, "children": children, "active": False,
                              "id": f"nav-{name}"})
            continue
        if rest and rest not in caps:
            continue
        items.append({"url": reverse(name), "label": label, "active": False,
                      "badge": _badge(name, user), "id": name.replace(":", "-")})
    return items


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    caps = capabilities_of(user)
    current = request.path
    items = _items(NAVIGATION, user, caps)
    links = [i for item in items for i in item.get("children", [item])]
    # The longest link that the current path starts with is the page we are on.
    matches = [i for i in links if current == i["url"] or (i["url"] != "/"
                                                           and current.startswith(i["url"]))]
    if matches:
        active = max(matches, key=lambda i: len(i["url"]))
        active["active"] = True
        for item in items:
            if active in item.get("children", ()):
                item["active"] = True
    return {"nav_items": items, "me": employee_of(user), "my_capabilities": caps,
            "today": timezone.localdate()}
