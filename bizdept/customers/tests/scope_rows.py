"""CUS rows of the scope matrix: customers, their contacts, visits, complaints, surveys
and market reports are sales records.

Each record is built through the services by its owner, as it would be in real use.
"""

import datetime
import itertools

from django.urls import reverse

from bizdept.core.tests.scope_matrix import ScopeRow
from bizdept.customers import services
from bizdept.org.scope import Domain

_serial = itertools.count(1)


def _customer(dept, owner):
    return services.customer_create(by=owner.user, name=f"{owner.name}的客户{next(_serial)}")


def _contact(dept, owner):
    return services.contact_create(customer=_customer(dept, owner), by=owner.user, name="联系人")


def _visit(dept, owner):
    return services.visit_log(customer=_customer(dept, owner), by=owner.user, summary="拜访")


def _complaint(dept, owner):
    return services.complaint_create(customer=_customer(dept, owner), by=owner.user,
                                     title="投诉", description="交货延迟")


def _survey(dept, owner):
    return services.survey_record(customer=_customer(dept, owner), by=owner.user,
                                  period="2026-Q1", surveyed_on=datetime.date(2026, 1, 5),
                                  service=5, delivery=4, product=4)


def _market_report(dept, owner):
    return services.market_report_create(by=owner.user, kind="competitor",
                                         title=f"竞品动态{next(_serial)}", text="降价")


def _in_api_list(response, record):
    return any(item["id"] == record.pk for item in response.json()["items"])


def _in_page(response, customer):
    return reverse("customers:customer_detail", args=[customer.pk]) in response.content.decode()


def _in_complaint_page(response, complaint):
    return (reverse("customers:complaint_detail", args=[complaint.pk])
            in response.content.decode())


def _in_survey_page(response, survey):
    return reverse("customers:survey_edit", args=[survey.pk]) in response.content.decode()


def _in_report_page(response, report):
    return (reverse("customers:market_report_detail", args=[report.pk])
            in response.content.decode())


ROWS = [
    ScopeRow("customer page", Domain.SALES, _customer,
             lambda c: reverse("customers:customer_detail", args=[c.pk])),
    ScopeRow("customer list page", Domain.SALES, _customer,
             lambda c: reverse("customers:customer_list") + f"?q={c.name}", kind="list",
             contains=_in_page),
    ScopeRow("customer API", Domain.SALES, _customer, lambda c: f"/api/v1/customers/{c.pk}"),
    ScopeRow("customer list API", Domain.SALES, _customer,
             lambda c: f"/api/v1/customers?q={c.name}", kind="list", contains=_in_api_list),
    ScopeRow("customer contacts API", Domain.SALES, _contact,
             lambda c: f"/api/v1/customers/{c.customer_id}/contacts"),
    ScopeRow("contact API", Domain.SALES, _contact, lambda c: f"/api/v1/contacts/{c.pk}"),
    ScopeRow("visit API", Domain.SALES, _visit, lambda v: f"/api/v1/visits/{v.pk}"),
    ScopeRow("visit list API", Domain.SALES, _visit,
             lambda v: f"/api/v1/visits?customer={v.customer_id}", kind="list",
             contains=_in_api_list),
    # --- complaints, surveys, market intelligence (CUS-9..11) ---
    ScopeRow("complaint page", Domain.SALES, _complaint,
             lambda c: reverse("customers:complaint_detail", args=[c.pk])),
    ScopeRow("complaint list page", Domain.SALES, _complaint,
             lambda c: reverse("customers:complaint_list") + f"?q={c.customer.name}",
             kind="list", contains=_in_complaint_page),
    ScopeRow("complaint API", Domain.SALES, _complaint, lambda c: f"/api/v1/complaints/{c.pk}"),
    ScopeRow("complaint list API", Domain.SALES, _complaint,
             lambda c: f"/api/v1/complaints?q={c.customer.name}", kind="list",
             contains=_in_api_list),
    ScopeRow("customer complaints API", Domain.SALES, _complaint,
             lambda c: f"/api/v1/customers/{c.customer_id}/complaints"),
    ScopeRow("survey API", Domain.SALES, _survey, lambda s: f"/api/v1/surveys/{s.pk}"),
    ScopeRow("survey list API", Domain.SALES, _survey,
             lambda s: f"/api/v1/surveys?customer={s.customer_id}", kind="list",
             contains=_in_api_list),
    ScopeRow("survey list page", Domain.SALES, _survey,
             lambda s: reverse("customers:survey_list") + f"?q={s.customer.name}",
             kind="list", contains=_in_survey_page),
    ScopeRow("survey edit page", Domain.SALES, _survey,
             lambda s: reverse("customers:survey_edit", args=[s.pk]), kind="detail"),
    ScopeRow("market report page", Domain.SALES, _market_report,
             lambda r: reverse("customers:market_report_detail", args=[r.pk])),
    ScopeRow("market report list page", Domain.SALES, _market_report,
             lambda r: reverse("customers:market_report_list") + f"?q={r.title}",
             kind="list", contains=_in_report_page),
    ScopeRow("market report API", Domain.SALES, _market_report,
             lambda r: f"/api/v1/market-reports/{r.pk}"),
    ScopeRow("market report list API", Domain.SALES, _market_report,
             lambda r: f"/api/v1/market-reports?q={r.title}", kind="list",
             contains=_in_api_list),
]
