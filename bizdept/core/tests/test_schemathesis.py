"""Schemathesis over the whole OpenAPI, in-process, as part of the suite.

The schema is read from the running app (``/api/v1/openapi.json`` through the WSGI
application) and every operation is fuzzed against the same application, in the test's
own thread and database transaction (see ``world``): the persona department of the root
conftest, with customers, contacts and visits, is what the API sees, on SQLite and on
PostgreSQL. Every response must be declared and match its schema (the one error body on
4xx), and none may be a 500. Two passes: the director (widest scope) and a salesperson
(narrowest), each with a personal token. Writes are fuzzed too: examples of one operation
run one after another on the same data (a release, then a claim, then a transfer...), in
the same order every time.

The coverage phase (boundary values and schema violations of every parameter) runs in the
director's pass only: what the schema accepts is the same for every persona, while what a
persona may read or change is what the salesperson's fuzzing is for. That keeps the file
within about a minute and a half on a two-core machine.

The run is deterministic (``derandomize``, no example database), so CI is stable; raise
``EXAMPLES`` locally to fuzz harder.

Also here: the OpenAPI document itself and the docs page, which must load its JS/CSS from
local static files (DESIGN rule 7: no CDN).
"""

import datetime
import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from bizdept.core.services import api_token_create
from bizdept.org.models import Employee, Position, Unit
from bizdept.org.tests.factories import DepartmentFactory
from bizdept.wsgi import application

EXAMPLES = 40

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
# The same document, fuzzed without the coverage phase (for the salesperson's pass).
scope_schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", application,
    config=SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}}))

fuzz_settings = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # The examples of one operation share its data (and see each other's writes), in a
    # deterministic order; each operation starts again from the module's data.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# Well-formed input can still break a rule that depends on data: an id that names no row,
# a credit code whose check character is wrong, a phone number that does not exist, a visit
# in the future, a daily claim limit reached. Such a request answers 400 with the error
# body naming the field (the service's message, the one a page shows too). Per operation,
# the fields such a 400 may name; "__all__" stands for a refusal that names no field.
_TEMPLATE_ITEM_FIELDS = {
    f"items.{name}" for name in (
        "kind", "kpi_code", "name", "weight", "target_source", "fixed_target", "rule_kind",
        "rule_params", "rule_params.full_points", "rule_params.cap_percent",
        "rule_params.higher_is_better", "rule_params.steps", "rule_params.steps.threshold",
        "rule_params.steps.points", "rule_params.rows", "rule_params.rows.from",
        "rule_params.rows.to", "rule_params.rows.points")} | {"items"}
_POINTS_FIELDS = {"points", *(f"points.{order}" for order in range(50))}
_APPRAISAL_RULES: dict[tuple[str, str], set[str]] = {
    ("POST", "/appraisal/cycles"): {"period", "name", "grade_bands", "distribution",
                                    "distribution.grades", "distribution.percent",
                                    "bottom_percent",
                                    *(f"grade_bands.{g}" for g in "SABC")},
    ("GET", "/appraisal/cycles/{cycle_id}/calibration"): {"unit"},
    ("POST", "/appraisal/cycles/{cycle_id}/advance"): {"status"},
    ("POST", "/appraisal/cycles/{cycle_id}/submit"): {"status", "distribution", "comment",
                                                      "__all__"},
    ("POST", "/appraisal/cycles/{cycle_id}/reopen"): {"reason"},
    ("GET", "/appraisal/appraisals"): {"cycle", "unit", "employee"},
    ("POST", "/appraisal/appraisals/{appraisal_id}/self-assessment"): {"comment",
                                                                       *_POINTS_FIELDS},
    ("POST", "/appraisal/appraisals/{appraisal_id}/review"): {"comment", *_POINTS_FIELDS},
    ("POST", "/appraisal/appraisals/{appraisal_id}/calibrate"): {"grade", "reason"},
    ("POST", "/appraisal/appraisals/{appraisal_id}/interview"): {"on", "notes"},
    ("POST", "/appraisal/appraisals/{appraisal_id}/sign"): {"interview_on"},
    ("POST", "/appraisal/appraisals/{appraisal_id}/improvements"): {"action", "owner",
                                                                    "due_on"},
    ("PATCH", "/appraisal/improvements/{improvement_id}"): {"status", "note"},
}
# bonus plans (INC-1): every rule named as the service names it, nested with its index
# ("tiers[2].rate", "gates[0].floor", "coefficients.S", "coefficients[1].from"); a plan's
# submission needs an approval policy; what-if on an approved cycle of the department
_PLAN_RULE_FIELDS = {
    "name", "position", "period_kind", "base_amount", "coefficient_basis", "coefficients",
    "commission_measure", "commission_mode", "tiers", "tiers.from", "tiers.rate",
    "commission_cap", "total_cap", "gates", "gates.kind", "gates.kpi", "gates.floor",
    "gates.grades", "gates.blocks", "notes", "coefficients.from", "coefficients.coefficient",
    *(f"coefficients.{grade}" for grade in "SABCD")}
_INCENTIVE_RULES: dict[tuple[str, str], set[str]] = {
    ("GET", "/incentives/plans"): {"position"},
    ("POST", "/incentives/plans"): _PLAN_RULE_FIELDS,
    ("PATCH", "/incentives/plans/{bonus_plan_id}"): _PLAN_RULE_FIELDS,
    ("POST", "/incentives/plans/{bonus_plan_id}/submit"): {"comment", "__all__"},
    ("GET", "/incentives/plans/{bonus_plan_id}/what-if"): {"cycle"},
    # bonus runs (INC-2): on an approved cycle of the department; a run paying nobody
    ("POST", "/incentives/runs"): {"cycle", "name"},
    ("POST", "/incentives/runs/{run_id}/submit"): {"lines", "comment", "__all__"},
    ("GET", "/incentives/runs/{run_id}/lines"): {"unit", "plan"},
    ("GET", "/incentives/lines"): {"unit", "plan"},
    # awards (INC-3): a title's basis (the score or a KPI), a unique name, a position that
    # exists; proposals from an approved cycle of the department; a special award for
    # someone below the proposer, for a year, above 0 with 2 decimals, with a reason;
    # declining needs a note
    ("GET", "/incentives/awards"): {"title", "unit"},
    ("POST", "/incentives/titles"): {"name", "basis", "position"},
    ("PATCH", "/incentives/titles/{honor_title_id}"): {"name", "basis", "position"},
    ("POST", "/incentives/awards/propose"): {"cycle"},
    ("POST", "/incentives/awards/special"): {"employee", "period", "amount", "reason"},
    ("POST", "/incentives/awards/{award_id}/decline"): {"note"},
}
BUSINESS_RULES: dict[tuple[str, str], set[str]] = {
    ("GET", "/employees"): {"unit", "position"},
    ("GET", "/customers"): {"owner", "unit"},
    ("POST", "/customers"): {"name", "credit_code", "phone", "owner", "collaborators"},
    ("PATCH", "/customers/{customer_id}"): {"name", "credit_code", "phone", "collaborators"},
    ("POST", "/customers/transfer"): {"customer_ids", "to_owner", "reason"},
    ("POST", "/customers/{customer_id}/claim"): {"__all__"},
    ("POST", "/customers/{customer_id}/release"): {"reason"},
    ("POST", "/customers/{customer_id}/grade"): {"grade", "reason"},
    ("POST", "/customers/{customer_id}/contacts"): {"phone", "mobile", "email"},
    ("PATCH", "/contacts/{contact_id}"): {"phone", "mobile", "email"},
    ("POST", "/customers/{customer_id}/visits"): {"visited_at", "next_on", "latitude",
                                                    "coach", "contact"},
    ("POST", "/visits/{visit_id}/review"): {"coach_review"},
    # complaints, surveys, market intelligence (CUS-9..11)
    ("GET", "/complaints"): {"handler", "unit"},
    ("POST", "/customers/{customer_id}/complaints"): {"handler", "received_at", "title",
                                                       "description"},
    ("PATCH", "/complaints/{complaint_id}"): {"status", "title", "description"},
    ("POST", "/complaints/{complaint_id}/start"): {"status"},
    ("POST", "/complaints/{complaint_id}/resolve"): {"status", "resolution"},
    ("POST", "/complaints/{complaint_id}/close"): {"status"},
    ("POST", "/complaints/{complaint_id}/reassign"): {"status", "handler"},
    ("GET", "/surveys"): {"unit"},
    ("POST", "/customers/{customer_id}/surveys"): {"surveyed_on", "period"},
    ("PATCH", "/surveys/{survey_id}"): {"surveyed_on", "period"},
    ("POST", "/market-reports"): {"customer", "reported_on", "title", "text", "region"},
    ("PATCH", "/market-reports/{report_id}"): {"reported_on", "title", "text", "region"},
    # Excel import (CUS-12): random bytes are not an xlsx (nor empty, nor too large)
    ("POST", "/customers/import"): {"file"},
    # approvals (SAL-3): reject/return need a comment; a delegation's dates, delegate, types
    ("POST", "/approvals/tasks/{task_id}/decide"): {"comment"},
    ("POST", "/approvals/delegations"): {"to", "starts_on", "ends_on", "document_types",
                                         "reason"},
    # products (SAL-1): codes, names, units blank after trimming; amounts with 3 decimals
    ("GET", "/products"): {"category"},
    ("POST", "/products"): {"code", "name", "unit", "category", "list_price", "standard_cost"},
    ("PATCH", "/products/{product_id}"): {"code", "name", "unit", "category", "list_price",
                                          "standard_cost"},
    ("POST", "/products/import"): {"file"},
    # contract number register (SAL-4): someone unknown or gone; only issued numbers move
    ("GET", "/contract-numbers"): {"person"},
    ("POST", "/contract-numbers/issue"): {"to"},
    ("POST", "/contract-numbers/{number_id}/void"): {"status", "reason"},
    ("POST", "/contract-numbers/{number_id}/return"): {"status", "reason"},
    # opportunities (SAL-2): the transition table names "stage"; a solution's lines and
    # their discount approval; customers and owners outside the scope; no approval policy;
    # an expected amount sent as a number with more than 2 decimals
    ("GET", "/opportunities"): {"owner", "unit"},
    ("POST", "/opportunities"): {"customer", "owner", "title", "expected_amount"},
    ("PATCH", "/opportunities/{opportunity_id}"): {"stage", "owner", "title",
                                                   "expected_amount"},
    ("GET", "/opportunities/funnel"): {"unit", "since"},
    ("POST", "/opportunities/{opportunity_id}/submit"): {"stage", "__all__"},
    ("POST", "/opportunities/{opportunity_id}/advance"): {"stage", "lines", "discount_percent"},
    ("POST", "/opportunities/{opportunity_id}/discount-approval"): {"stage", "discount_percent",
                                                                    "__all__"},
    ("POST", "/opportunities/{opportunity_id}/win"): {"stage", "reason"},
    ("POST", "/opportunities/{opportunity_id}/lose"): {"stage", "reason"},
    ("POST", "/opportunities/{opportunity_id}/evaluate"): {"stage", "score"},
    ("POST", "/opportunities/{opportunity_id}/lines"): {"stage", "product", "quantity",
                                                        "unit_price", "discount_percent"},
    ("PATCH", "/opportunity-lines/{line_id}"): {"stage", "quantity", "unit_price",
                                                "discount_percent"},
    ("DELETE", "/opportunity-lines/{line_id}"): {"stage"},
    # expenses (SAL-7): only drafts change; dates not in the future; periods from 2000;
    # a budget sent as a number with more than 2 decimals
    ("GET", "/expenses"): {"employee", "unit"},
    ("POST", "/expenses"): {"amount", "spent_on", "customer"},
    ("PATCH", "/expenses/{expense_id}"): {"status", "amount", "spent_on", "customer"},
    ("POST", "/expenses/{expense_id}/submit"): {"status", "__all__"},
    ("POST", "/expenses/{expense_id}/pay"): {"status"},
    ("GET", "/expense-budgets"): {"employee"},
    ("POST", "/expense-budgets"): {"employee", "period", "amount"},
    ("GET", "/expense-budgets/use"): {"period"},
    # contracts (SAL-5): only my numbers and customers; the workflow names "status"; lines
    # frozen under approval and once signed; the checklist before the report; the scan
    ("GET", "/contracts"): {"owner", "unit", "customer"},
    ("POST", "/contracts"): {"number", "customer", "opportunity", "title", "lines", "ends_on"},
    ("PATCH", "/contracts/{contract_id}"): {"status", "customer", "opportunity", "title",
                                            "ends_on"},
    ("PUT", "/contracts/{contract_id}/lines"): {"lines"},
    ("POST", "/contracts/{contract_id}/lines"): {"lines"},
    ("DELETE", "/contracts/{contract_id}/lines/{contract_line_id}"): {"lines"},
    ("POST", "/contracts/{contract_id}/feasibility"): {"status", "delivery_terms"},
    ("POST", "/contracts/{contract_id}/report"): {"status", "delivery_terms", "technical_terms",
                                                  "installation_terms", "lines", "__all__"},
    ("POST", "/contracts/{contract_id}/sign"): {"status", "signed_on", "scan", "__all__"},
    ("POST", "/contracts/{contract_id}/execute"): {"status"},
    ("POST", "/contracts/{contract_id}/complete"): {"status"},
    ("POST", "/contracts/{contract_id}/terminate"): {"status", "reason"},
    ("POST", "/contracts/{contract_id}/amendments"): {"status", "reason", "lines", "ends_on",
                                                      "__all__"},
    # receivables (SAL-6): the plan within the amount; payments on signed contracts, not in
    # the future, never above the amount; a payment is reversed once
    ("PUT", "/contracts/{contract_id}/plan"): {"status", "instalments"},
    ("POST", "/contracts/{contract_id}/payments"): {"contract", "received_on", "amount"},
    ("POST", "/payments/{payment_id}/reverse"): {"payment", "reason"},
    ("GET", "/receivables/aging"): {"unit"},
    ("GET", "/receivables/overdue"): {"unit"},
    ("GET", "/receivables/collection"): {"unit", "until"},
    # target plans (TGT-1..4): only drafts change; periods of the plan's year, nodes of its
    # tree, realistic ≤ stretch, whole counts; every sum holding before it is submitted
    # (a cell of a list is named with its index: "values[3].realistic")
    ("POST", "/targets/plans"): {"fiscal_year", "unit"},
    ("DELETE", "/targets/plans/{plan_id}"): {"status"},
    ("PUT", "/targets/plans/{plan_id}/values"): {"status", "values", "values.unit",
                                                 "values.employee", "values.period",
                                                 "values.realistic", "values.stretch"},
    ("POST", "/targets/plans/{plan_id}/split"): {"status", "unit", "employee", "period",
                                                 "how", "step_percent"},
    ("POST", "/targets/plans/{plan_id}/submit"): {"status", "values", "__all__"},
    ("POST", "/targets/plans/{plan_id}/revise"): {"status", "reason"},
    ("POST", "/targets/plans/{plan_id}/reassign"): {"status", "from_employee", "to_employee",
                                                    "from_month"},
    # tracking and rankings (TGT-5, 6): a period's year between 2000 and 2999
    ("GET", "/targets/tracking"): {"period"},
    ("GET", "/targets/rankings"): {"period"},
    ("GET", "/targets/my"): {"year"},  # no year given: as_of's, which may be out of range
    # role dashboards (RPT-1): a period's year between 2000 and 2999
    ("GET", "/reports/dashboard"): {"period"},
    # scorecard templates (PER-2): weights totalling exactly 100 ("items"), each item's
    # shape, KPI code and rule parameters (named with its index: "items[2].rule_params...")
    ("POST", "/appraisal/templates"): {"name", "position", "items", *_TEMPLATE_ITEM_FIELDS},
    ("PUT", "/appraisal/templates/{template_id}"): {"name", "position", "items", "notes",
                                                     *_TEMPLATE_ITEM_FIELDS},
    # appraisal cycles (PER-3..5): the period's kind and year, grade bands falling from S
    # to C, a distribution covering every grade once and totalling 100, bounds and
    # decimals of scores and shares; stages (reviews before calibration, grades and the
    # distribution before approval); manual items' points by sort order ("points.2"),
    # interviews not in the future, improvement owners among the employee and reviewer
    **_APPRAISAL_RULES,
    # KPI inputs (PER-1): sizes above 0 with 2 decimals, each region once; planned shares
    # of existing top-level categories, each once, totalling exactly 100 ("items")
    ("PUT", "/kpi/market-sizes"): {"items", "items.region", "items.size"},
    ("PUT", "/kpi/planned-mix"): {"items", "items.category", "items.percent"},
    # bonus plans, what-if, runs and lines (INC-1, INC-2)
    **_INCENTIVE_RULES,
}


def known_references(ctx, response, case):
    """``positive_data_acceptance``, except for the documented data rules above: anything
    else schema-valid must be accepted."""
    if response.status_code == 400:
        path = case.operation.path.removeprefix("/api/v1")
        allowed = BUSINESS_RULES.get((case.operation.method.upper(), path), set())
        errors = {re.sub(r"\[\d+\]", "", name) for name in response.json().get("errors") or {}}
        if allowed and (errors or {"__all__"}) <= allowed:
            return True
    return positive_data_acceptance(ctx, response, case)


# Ids of rows that exist in this test's database, by parameter name; filled by the
# fixtures below. Random ids almost never name a row, so the hooks swap a well-formed id
# for a real one half of the time: details answer 200 (or 404 out of scope) with real
# bodies, the list filters match real subtrees, and writes reach their rules.
KNOWN: dict[str, list[int]] = {}


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 2**62


def _is_ids(value) -> bool:
    return isinstance(value, list) and bool(value) and all(_is_id(v) for v in value)


# Names that are not ids in some operations: a survey's "product" is a 1–5 score.
NOT_IDS = {"/surveys": {"product"}}


def _not_ids(context) -> set:
    path = getattr(getattr(context, "operation", None), "path", "") or ""
    return {name for fragment, names in NOT_IDS.items() if fragment in path
            for name in names}


def _with_known_ids(values, skip=frozenset()):
    if not isinstance(values, dict):
        return st.just(values)
    swaps = {}
    for name, value in values.items():
        if not KNOWN.get(name) or name in skip:
            continue
        if _is_id(value):
            swaps[name] = st.sampled_from(KNOWN[name])
        elif _is_ids(value):
            swaps[name] = st.lists(st.sampled_from(KNOWN[name]), min_size=1,
                                   max_size=len(value), unique=True)
    if not swaps:
        return st.just(values)
    known = st.fixed_dictionaries(swaps)
    return st.one_of(st.just(values), known.map(lambda ids: {**values, **ids}))


def flatmap_path_parameters(context, path_parameters):
    return _with_known_ids(path_parameters)


def flatmap_query(context, query):
    return _with_known_ids(query)


def flatmap_body(context, body):
    return _with_known_ids(body, _not_ids(context))


for _schema in (schema, scope_schema):
    for _hook in (flatmap_path_parameters, flatmap_query, flatmap_body):
        _schema.hook(_hook)


def _customer_book(dept) -> None:
    """Customers for the fuzzer to read and change: one per salesperson (and the outsider),
    each with a contact and a visit; a joint visit the director may review; one in the pool."""
    from bizdept.customers import services
    from bizdept.customers.models import Complaint

    for n, owner in enumerate((dept.sales, dept.sales_mate, dept.other_sales, dept.outsider)):
        customer = services.customer_create(by=owner.user, name=f"模糊测试客户{n}",
                                            phone=f"1390000{n:04d}")
        contact = services.contact_create(customer=customer, by=owner.user, name="联系人")
        services.visit_log(customer=customer, by=owner.user, summary="拜访", contact=contact)
        if owner == dept.sales:
            services.visit_log(customer=customer, by=owner.user, summary="陪同拜访",
                               kind="joint", coach=dept.director)
        # CUS-9..11: an open complaint, one resolved, a survey and a market report each
        complaint = services.complaint_create(customer=customer, by=owner.user, title="投诉",
                                              description="交货延迟")
        resolved = services.complaint_create(customer=customer, by=owner.user, title="已解决",
                                             description="包装破损", severity="low")
        services.complaint_resolve(complaint=resolved, by=owner.user, resolution="补发")
        services.survey_record(customer=customer, by=owner.user, period="2026-Q1",
                               surveyed_on=datetime.date(2026, 1, 5), service=5, delivery=4,
                               product=3)
        services.market_report_create(by=owner.user, kind="competitor", title="竞品降价",
                                      text="报价下调", customer=customer)
        if owner == dept.sales:
            Complaint.objects.filter(pk=complaint.pk).update(
                deadline_at=complaint.received_at - datetime.timedelta(days=1))
    services.complaints_escalate_overdue()
    pooled = services.customer_create(by=dept.sales.user, name="模糊测试公海客户")
    services.customer_release(customer=pooled, by=dept.sales.user, reason="无意向")


def _approvals(dept) -> None:
    """SAL-3: pending requests under a test document type (customer discounts; no
    production app owns it): the salesperson's waits for their lead, who has delegated to
    the director; the manager's waits for the director. The salesperson has delegated too."""
    from bizdept.approvals import services
    from bizdept.approvals.tests.factories import TEST_TYPE, document, register_test_type

    register_test_type()
    services.approval_policy_create(document_type=TEST_TYPE, name="模糊测试审批", steps=[
        {"name": "Direct head", "approver_kind": "direct_head"}])
    for owner in (dept.sales, dept.sales, dept.manager):
        services.approval_submit(document=document(owner, amount=1000), by=owner.user)
    today = datetime.date.today()
    for frm, to in ((dept.lead, dept.director), (dept.sales, dept.sales_mate)):
        services.delegation_create(by=frm.user, to=to, starts_on=today,
                                   ends_on=today + datetime.timedelta(days=30))


def _sales(dept) -> None:
    """SAL-1 and SAL-4: a small catalogue (one product no longer offered) and contract
    numbers: the salesperson's own (one voided), finance's issue to another team, the
    outsider's."""
    from decimal import Decimal

    from bizdept.sales import services

    by = dept.director.user
    top = services.category_create(by=by, name="自动化")
    child = services.category_create(by=by, name="PLC", parent=top)
    for code, category, price in (("PLC-S32", child, "3280.00"), ("VFD-075", top, "4680.00"),
                                  ("OLD-1", top, "10.00")):
        product = services.product_create(by=by, code=code, name=code, category=category,
                                          unit="台", list_price=Decimal(price),
                                          standard_cost=Decimal("1.00"))
    services.product_deactivate(product=product, by=by)
    first, _second = services.contract_number_issue(by=dept.sales.user, to=dept.sales, count=2)
    services.contract_number_void(number=first, by=dept.sales.user, reason="打印错误")
    services.contract_number_issue(by=dept.finance.user, to=dept.other_sales, count=2)
    services.contract_number_issue(by=dept.outsider.user, to=dept.outsider)


def _opportunities_expenses(dept) -> None:
    """SAL-2 and SAL-7: an opportunity per salesperson (and the outsider) at need collected;
    the salesperson's second one at the solution with a discounted line, a third won; a
    draft and a submitted expense claim each, and this month's budgets."""
    from bizdept.approvals.demo import ensure_default_policies
    from bizdept.sales import services
    from bizdept.sales.models import Product
    from bizdept.sales.tests.factories import decide, make_opportunity

    ensure_default_policies()
    product = Product.objects.filter(is_active=True).first()
    today = datetime.date.today()
    for owner in (dept.sales, dept.sales_mate, dept.other_sales, dept.outsider):
        make_opportunity(owner, title="模糊测试商机")
        services.expense_claim_create(by=owner.user, category="travel", amount="120.00",
                                      spent_on=today, description="差旅")
        if owner != dept.outsider:  # nobody heads the outsider: no approver
            claim = services.expense_claim_create(by=owner.user, category="transport",
                                                  amount="30.00", spent_on=today)
            services.expense_claim_submit(claim=claim, by=owner.user)
    solution = make_opportunity(dept.sales, title="模糊测试方案")
    services.opportunity_submit(opportunity=solution, by=dept.sales.user)
    decide(solution)
    services.solution_line_add(opportunity=solution, by=dept.sales.user, product=product,
                               quantity=2, discount_percent=20)
    won = make_opportunity(dept.sales, title="模糊测试赢单")
    services.opportunity_win(opportunity=won, by=dept.sales.user, reason="签约")
    for person in (dept.sales, dept.sales_mate, dept.other_sales):
        services.expense_budget_set(by=dept.finance.user, employee=person,
                                    period=f"{today.year}-{today.month:02d}", amount="1000")


def _contracts_receivables(dept) -> None:
    """SAL-5 and SAL-6: the salesperson's draft, reported and signed contracts (the signed
    one with a plan, a payment and a reversal), another team's signed one, the outsider's
    draft. Scans go to a temporary media folder."""
    import tempfile

    from django.test import override_settings

    from bizdept.sales import services
    from bizdept.sales.tests.contract_factories import make_contract, plan, signed_contract

    with override_settings(MEDIA_ROOT=tempfile.mkdtemp(prefix="bizdept-fuzz-")):
        make_contract(dept.sales, amount="20000.00")
        services.contract_report(contract=make_contract(dept.sales, amount="30000.00"),
                                 by=dept.sales.user)
        signed = signed_contract(dept.sales, amount="50000.00")
        plan(signed, dept.sales, (-40, "20000"), (30, "30000"))
        payment = services.payment_record(contract=signed, by=dept.finance.user,
                                          received_on=datetime.date.today(), amount="5000")
        services.payment_reverse(payment=payment, by=dept.finance.user, reason="录错")
        services.payment_record(contract=signed, by=dept.finance.user,
                                received_on=datetime.date.today(), amount="15000")
        theirs = signed_contract(dept.other_sales, amount="80000.00")
        plan(theirs, dept.other_sales, (-100, "80000"))
        make_contract(dept.outsider, amount="1000.00")


def _target_plans(dept) -> None:
    """TGT-1..4: this year's revenue plan approved (every cell set), next year's a draft
    whose sums hold, and an empty visits draft."""
    from bizdept.targets.tests.factories import YEAR, approved_plan, fill_plan, make_plan

    approved_plan(dept)
    fill_plan(make_plan(dept.director, year=YEAR + 1), dept.director)
    make_plan(dept.director, metric="visits")


def _scorecard_templates(dept) -> None:
    """PER-2: an active scorecard template and a deactivated one."""
    from bizdept.appraisal import services
    from bizdept.appraisal.tests.factories import make_template

    make_template(dept.director)
    services.template_deactivate(template=make_template(dept.hr, name="旧模板"),
                                 by=dept.hr.user)


def _bonus_plans_runs(dept) -> None:
    """INC-1, INC-2: the salespeople's quarterly plan in force, a draft of its next version
    (what-if, change, submit, delete) and a draft run on the approved 2026-Q1 cycle whose
    lines pay the salespeople."""
    from bizdept.appraisal.models import AppraisalCycle
    from bizdept.incentives import services
    from bizdept.incentives.tests.factories import draft_plan

    plan = draft_plan(dept.director, gates=[{"kind": "grade_in", "grades": ["D"],
                                             "blocks": "all"}], total_cap="20000")
    services.plan_approved(plan)  # as the engine would (its default route needs finance)
    services.plan_new_version(plan=plan, by=dept.director.user)
    cycle = AppraisalCycle.objects.get(unit=dept.department, period="2026-Q1")
    services.run_create(by=dept.director.user, cycle=cycle)


def _awards(dept) -> None:
    """INC-3: two honor titles (by score, by revenue), the proposals from the approved
    2026-Q1 cycle, a year-end special award for the salesperson proposed by their lead and
    one for their teammate confirmed by the director."""
    from bizdept.appraisal.models import AppraisalCycle
    from bizdept.incentives import services

    services.title_create(by=dept.hr.user, name="优秀员工", basis="appraisal_score")
    services.title_create(by=dept.hr.user, name="销售冠军", basis="revenue", per="team")
    cycle = AppraisalCycle.objects.get(unit=dept.department, period="2026-Q1")
    services.awards_propose(by=dept.hr.user, cycle=cycle)
    services.special_award_propose(by=dept.lead.user, employee=dept.sales, period="2026",
                                   amount="5000", reason="大单突破")
    done = services.special_award_propose(by=dept.lead.user, employee=dept.sales_mate,
                                          period="2026", amount="3000", reason="新客户")
    services.award_confirm(award=done, by=dept.director.user, note="同意")


def _award_ids(ids) -> dict[str, list[int]]:
    from bizdept.incentives.models import Award, HonorTitle

    titles = ids(HonorTitle)
    return {"honor_title_id": titles, "title": titles, "award_id": ids(Award)}


def _kpi_inputs(dept) -> None:
    """PER-1: this year's market sizes and a planned mix over two top-level categories
    (one with a sub-category, which a plan may not name)."""
    from bizdept.kpi import services
    from bizdept.sales.models import ProductCategory

    year = datetime.date.today().year
    services.market_sizes_set(by=dept.hr.user, year=year, items=[
        {"region": "上海", "size": "1000000"}, {"region": "杭州", "size": "500000"}])
    electric = ProductCategory.objects.create(name="KPI电气")
    ProductCategory.objects.create(name="KPI变频器", parent=electric)
    service = ProductCategory.objects.create(name="KPI服务")
    services.planned_mix_set(by=dept.director.user, year=year, items=[
        {"category": electric.pk, "percent": "60"}, {"category": service.pk, "percent": "40"}])


def _appraisal_cycles(dept) -> None:
    """PER-3..5: cycles of the persona department at every stage (2026-Q1 approved, with an
    interview signed by the employee and an improvement action; Q2 in calibration; Q3 in
    manager review with the salesperson's appraisal reviewed; Q4 in self-assessment)."""
    from bizdept.appraisal import services
    from bizdept.appraisal.tests.factories_api import (
        advance_to,
        appraisal_of,
        cycle_at,
        cycle_templates,
        marks_for,
    )

    cycle_templates(dept.hr)
    approved = cycle_at(dept, "calibration", period="2026-Q1", templates=False)
    mine = appraisal_of(approved, dept.sales)
    services.appraisal_interview(appraisal=mine, by=dept.lead.user,
                                 on=datetime.date.today() - datetime.timedelta(days=1),
                                 notes="面谈")
    services.appraisal_sign(appraisal=mine, by=dept.sales.user)
    services.improvement_add(appraisal=mine, by=dept.lead.user, action="提高拜访量",
                             owner=dept.sales, due_on=datetime.date(2026, 6, 30))
    advance_to(approved, dept, "approved")
    cycle_at(dept, "calibration", period="2026-Q2", templates=False)
    review = cycle_at(dept, "manager_review", period="2026-Q3", templates=False)
    theirs = appraisal_of(review, dept.sales)
    services.appraisal_review(appraisal=theirs, by=dept.lead.user, points=marks_for(theirs))
    cycle_at(dept, "self_assessment", period="2026-Q4", templates=False)


def _appraisal_ids(ids) -> dict[str, list[int]]:
    from bizdept.appraisal.models import Appraisal, AppraisalCycle, ImprovementItem

    cycles = ids(AppraisalCycle)
    return {"cycle_id": cycles, "cycle": cycles, "appraisal_id": ids(Appraisal),
            "improvement_id": ids(ImprovementItem)}


def _known_ids() -> dict[str, list[int]]:
    from bizdept.appraisal.models import ScorecardTemplate
    from bizdept.approvals.models import ApprovalRequest, ApprovalTask, Delegation
    from bizdept.customers.models import (
        Complaint,
        Contact,
        Customer,
        MarketReport,
        Survey,
        Visit,
    )
    from bizdept.imports.models import ImportJob
    from bizdept.sales.models import (
        ContractNumber,
        ExpenseClaim,
        Opportunity,
        Product,
        ProductCategory,
        SolutionLine,
    )

    def ids(model):
        return sorted(model.objects.values_list("pk", flat=True))

    units, employees, customers = ids(Unit), ids(Employee), ids(Customer)
    contacts = ids(Contact)
    return {
        "unit_id": units, "unit": units, "position": ids(Position),
        "employee_id": employees, "employee": employees, "owner": employees,
        "to_owner": employees, "coach": employees, "collaborators": employees,
        "customer_id": customers, "customer": customers, "customer_ids": customers,
        "contact_id": contacts, "contact": contacts, "visit_id": ids(Visit),
        "complaint_id": ids(Complaint), "handler": employees, "survey_id": ids(Survey),
        "report_id": ids(MarketReport),
        "job_id": sorted(ImportJob.objects.values_list("pk", flat=True)),
        "request_id": ids(ApprovalRequest), "task_id": ids(ApprovalTask),
        "delegation_id": ids(Delegation), "to": employees,
        # sales (SAL-1, SAL-4)
        "product_id": ids(Product), "category": ids(ProductCategory),
        "number_id": ids(ContractNumber), "person": employees,
        # opportunities and expenses (SAL-2, SAL-7)
        "opportunity_id": ids(Opportunity), "line_id": ids(SolutionLine),
        "product": ids(Product), "expense_id": ids(ExpenseClaim),
        # contracts and receivables (SAL-5, SAL-6)
        **_contract_ids(ids),
        # target plans (TGT-1..4)
        **_plan_ids(ids, employees),
        # scorecard templates (PER-2)
        "template_id": sorted(ScorecardTemplate.objects.values_list("pk", flat=True)),
        # appraisal cycles, appraisals, improvement actions (PER-3..5)
        **_appraisal_ids(ids),
        # bonus plans, runs and lines (INC-1, INC-2)
        **_incentive_ids(ids),
        # honor titles and awards (INC-3)
        **_award_ids(ids),
    }


def _incentive_ids(ids) -> dict[str, list[int]]:
    from bizdept.incentives.models import BonusLine, BonusPlan, BonusRun

    plans = ids(BonusPlan)
    runs = ids(BonusRun)
    return {"bonus_plan_id": plans, "plan": plans, "run_id": runs, "run": runs,
            "bonus_line_id": ids(BonusLine)}


def _plan_ids(ids, employees) -> dict[str, list[int]]:
    from bizdept.targets.models import TargetPlan

    return {"plan_id": ids(TargetPlan), "from_employee": employees,
            "to_employee": employees}


def _contract_ids(ids) -> dict[str, list[int]]:
    from bizdept.customers.models import Customer
    from bizdept.sales.models import Contract, ContractLine, ContractNumber, Payment

    return {"contract_id": ids(Contract), "contract_line_id": ids(ContractLine),
            "payment_id": ids(Payment), "number": ids(ContractNumber),
            "customer": ids(Customer)}


def _import_job(dept) -> None:
    """A finished Excel import of the salesperson's with a report row (CUS-12): the job
    endpoints answer 200 to them and 404 to the director (someone else's job)."""
    from bizdept.imports.models import ImportIssue, ImportJob

    job = ImportJob.objects.create(kind="customers", created_by=dept.sales.user, status="done",
                                   rows_seen=1, rows_rejected=1, progress=100)
    ImportIssue.objects.create(job=job, sheet="客户", row=2, column="电话", message="号码无效")


def token_header(employee) -> dict[str, str]:
    _, key = api_token_create(user=employee.user, name="schemathesis")
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The persona department, its customers and two tokens, built once for the module in
    a transaction that is rolled back at its end; each test runs in a savepoint inside it
    (the ``db`` fixture), so the writes of one operation's examples never reach the next.

    Requests reach the app in that same transaction, as with Django's test client: the
    end of every request would otherwise close the connection (``close_old_connections``),
    a no-op on SQLite's in-memory test database but, on PostgreSQL, the end of the
    transaction and of everything built in it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            dept = DepartmentFactory.build_department()
            _customer_book(dept)
            _import_job(dept)
            _approvals(dept)
            _sales(dept)
            _opportunities_expenses(dept)
            _contracts_receivables(dept)
            _target_plans(dept)
            _scorecard_templates(dept)
            _appraisal_cycles(dept)
            _kpi_inputs(dept)
            _bonus_plans_runs(dept)
            _awards(dept)
            KNOWN.update(_known_ids())
            yield {"director": token_header(dept.director), "sales": token_header(dept.sales)}
            transaction.set_rollback(True)
    finally:
        from bizdept.approvals.tests.factories import unregister_test_type

        unregister_test_type()
        KNOWN.clear()
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


CHECKS = {"excluded_checks": [positive_data_acceptance], "additional_checks": [known_references]}


@pytest.fixture
def as_director(world, db):
    return world["director"]


@pytest.fixture
def as_sales(world, db):
    return world["sales"]


@schema.parametrize()
@fuzz_settings
def test_api_as_director(case, as_director):
    """The director sees the whole department: the most rows, the widest scope."""
    case.call_and_validate(headers=as_director, **CHECKS)


@scope_schema.parametrize()
@settings(fuzz_settings, max_examples=EXAMPLES // 2)
def test_api_as_salesperson(case, as_sales):
    """A salesperson sees only themselves: most reads of other people answer 404."""
    case.call_and_validate(headers=as_sales, **CHECKS)


# --- the document and the docs page ---------------------------------------------------
def test_openapi_document_lists_every_endpoint(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {
        "/api/v1/units", "/api/v1/units/tree", "/api/v1/units/{unit_id}",
        "/api/v1/employees", "/api/v1/employees/me", "/api/v1/employees/{employee_id}",
        "/api/v1/customers", "/api/v1/customers/transfer", "/api/v1/customers/{customer_id}",
        "/api/v1/customers/{customer_id}/claim", "/api/v1/customers/{customer_id}/release",
        "/api/v1/customers/{customer_id}/grade", "/api/v1/customers/{customer_id}/contacts",
        "/api/v1/customers/{customer_id}/visits", "/api/v1/contacts/{contact_id}",
        "/api/v1/visits", "/api/v1/visits/{visit_id}", "/api/v1/visits/{visit_id}/review",
        "/api/v1/customers/{customer_id}/complaints", "/api/v1/complaints",
        "/api/v1/complaints/{complaint_id}", "/api/v1/complaints/{complaint_id}/start",
        "/api/v1/complaints/{complaint_id}/resolve", "/api/v1/complaints/{complaint_id}/close",
        "/api/v1/complaints/{complaint_id}/reassign", "/api/v1/surveys",
        "/api/v1/customers/{customer_id}/surveys", "/api/v1/surveys/{survey_id}",
        "/api/v1/market-reports", "/api/v1/market-reports/{report_id}",
        "/api/v1/customers/import", "/api/v1/imports/{job_id}", "/api/v1/imports/{job_id}/issues",
        "/api/v1/approvals/inbox", "/api/v1/approvals/requests",
        "/api/v1/approvals/requests/{request_id}", "/api/v1/approvals/requests/{request_id}/cancel",
        "/api/v1/approvals/tasks/{task_id}/decide", "/api/v1/approvals/delegations",
        "/api/v1/approvals/delegations/{delegation_id}",
        "/api/v1/products", "/api/v1/products/import", "/api/v1/products/{product_id}",
        "/api/v1/product-categories", "/api/v1/contract-numbers",
        "/api/v1/contract-numbers/issue", "/api/v1/contract-numbers/{number_id}",
        "/api/v1/contract-numbers/{number_id}/void",
        "/api/v1/contract-numbers/{number_id}/return",
        # opportunities (SAL-2) and expenses (SAL-7)
        "/api/v1/opportunities", "/api/v1/opportunities/funnel",
        "/api/v1/opportunities/{opportunity_id}",
        "/api/v1/opportunities/{opportunity_id}/submit",
        "/api/v1/opportunities/{opportunity_id}/advance",
        "/api/v1/opportunities/{opportunity_id}/discount-approval",
        "/api/v1/opportunities/{opportunity_id}/win",
        "/api/v1/opportunities/{opportunity_id}/lose",
        "/api/v1/opportunities/{opportunity_id}/evaluate",
        "/api/v1/opportunities/{opportunity_id}/lines", "/api/v1/opportunity-lines/{line_id}",
        "/api/v1/expenses", "/api/v1/expenses/{expense_id}",
        "/api/v1/expenses/{expense_id}/submit", "/api/v1/expenses/{expense_id}/pay",
        "/api/v1/expense-budgets", "/api/v1/expense-budgets/use",
        # contracts (SAL-5) and receivables (SAL-6)
        "/api/v1/contracts", "/api/v1/contracts/{contract_id}",
        "/api/v1/contracts/{contract_id}/lines",
        "/api/v1/contracts/{contract_id}/lines/{contract_line_id}",
        "/api/v1/contracts/{contract_id}/feasibility", "/api/v1/contracts/{contract_id}/report",
        "/api/v1/contracts/{contract_id}/sign", "/api/v1/contracts/{contract_id}/execute",
        "/api/v1/contracts/{contract_id}/complete", "/api/v1/contracts/{contract_id}/terminate",
        "/api/v1/contracts/{contract_id}/amendments", "/api/v1/contracts/{contract_id}/plan",
        "/api/v1/contracts/{contract_id}/payments", "/api/v1/payments/{payment_id}/reverse",
        "/api/v1/receivables/aging", "/api/v1/receivables/overdue",
        "/api/v1/receivables/collection",
        # tracking and rankings (TGT-5, 6)
        "/api/v1/targets/tracking", "/api/v1/targets/my", "/api/v1/targets/rankings",
        # target plans (TGT-1..4)
        "/api/v1/targets/plans", "/api/v1/targets/plans/{plan_id}",
        "/api/v1/targets/plans/{plan_id}/grid",
        "/api/v1/targets/plans/{plan_id}/people/{employee_id}",
        "/api/v1/targets/plans/{plan_id}/values", "/api/v1/targets/plans/{plan_id}/split",
        "/api/v1/targets/plans/{plan_id}/submit", "/api/v1/targets/plans/{plan_id}/revise",
        "/api/v1/targets/plans/{plan_id}/reassign", "/api/v1/targets/plans/{plan_id}/check",
        # role dashboards (RPT-1)
        "/api/v1/reports/dashboard",
        # scorecard templates (PER-2)
        "/api/v1/appraisal/templates", "/api/v1/appraisal/templates/{template_id}",
        # appraisal cycles and appraisals (PER-3..5)
        "/api/v1/appraisal/cycles", "/api/v1/appraisal/cycles/{cycle_id}",
        "/api/v1/appraisal/cycles/{cycle_id}/advance",
        "/api/v1/appraisal/cycles/{cycle_id}/refresh",
        "/api/v1/appraisal/cycles/{cycle_id}/submit",
        "/api/v1/appraisal/cycles/{cycle_id}/reopen",
        "/api/v1/appraisal/cycles/{cycle_id}/calibration",
        "/api/v1/appraisal/appraisals", "/api/v1/appraisal/my",
        "/api/v1/appraisal/appraisals/{appraisal_id}",
        "/api/v1/appraisal/appraisals/{appraisal_id}/self-assessment",
        "/api/v1/appraisal/appraisals/{appraisal_id}/review",
        "/api/v1/appraisal/appraisals/{appraisal_id}/calibrate",
        "/api/v1/appraisal/appraisals/{appraisal_id}/interview",
        "/api/v1/appraisal/appraisals/{appraisal_id}/sign",
        "/api/v1/appraisal/appraisals/{appraisal_id}/improvements",
        "/api/v1/appraisal/improvements/{improvement_id}",
        # KPI inputs (PER-1)
        "/api/v1/kpi/market-sizes", "/api/v1/kpi/planned-mix",
        # bonus plans, what-if, runs and lines (INC-1, INC-2)
        "/api/v1/incentives/plans", "/api/v1/incentives/plans/{bonus_plan_id}",
        "/api/v1/incentives/plans/{bonus_plan_id}/new-version",
        "/api/v1/incentives/plans/{bonus_plan_id}/submit",
        "/api/v1/incentives/plans/{bonus_plan_id}/what-if",
        "/api/v1/incentives/runs", "/api/v1/incentives/runs/{run_id}",
        "/api/v1/incentives/runs/{run_id}/recompute", "/api/v1/incentives/runs/{run_id}/submit",
        "/api/v1/incentives/runs/{run_id}/lines", "/api/v1/incentives/lines/{bonus_line_id}",
        "/api/v1/incentives/my-lines", "/api/v1/incentives/lines",
        # honor titles and awards (INC-3)
        "/api/v1/incentives/titles", "/api/v1/incentives/titles/{honor_title_id}",
        "/api/v1/incentives/titles/{honor_title_id}/deactivate",
        "/api/v1/incentives/awards", "/api/v1/incentives/awards/{award_id}",
        "/api/v1/incentives/awards/propose", "/api/v1/incentives/awards/special",
        "/api/v1/incentives/awards/{award_id}/confirm",
        "/api/v1/incentives/awards/{award_id}/decline",
    }
    schemes = doc["components"]["securitySchemes"]
    assert schemes["TokenAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["SessionAuth"]["in"] == "cookie"
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            # every operation documents the one error body for the client errors it can cause
            for status in ("401", "404", "422"):
                ref = operation["responses"][status]["content"]["application/json"]["schema"]
                assert ref == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, status)


def test_docs_page_loads_its_assets_from_local_static_files(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
    for asset in assets:
        assert asset.startswith("/static/"), asset
        served = client.get(asset)
        assert served.status_code == 200, asset
        served.close()
    assert "//" not in "".join(assets)
    for cdn in ("cdn.", "jsdelivr", "unpkg", "cdnjs", "googleapis", "http://", "https://"):
        assert cdn not in html, cdn
    # no "valid schema" badge fetched from validator.swagger.io
    assert '"validatorUrl": null' in html
