"""Demo and scale data for the sales app (SAL), after ``bizdept.org.demo``.

``build_demo``: an industrial catalogue (5 categories, 25 products with list prices and
standard costs) created through the services by the director, and a year of contract
numbers (SAL-4) issued by finance to the salespeople through ``contract_number_issue``,
so the register is gapless by construction; the issue times are then moved back over the
year in sequence order. Most numbers are left issued (contracts will use them), a few
are voided or returned with a reason.

``build_scale``: products in bulk, then contracts on gapless numbers, payment plans,
payments and opportunities by raw multi-row INSERTs (``build_scale_deals``).

Deterministic: only ``ctx.rng`` draws.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from bizdept.org.choices import RoleCode
from bizdept.org.models import Employee, EmployeeStatus

from . import services
from .models import ContractNumber, Product, ProductCategory

# (category, [(code, name, unit, list price, standard cost)])
CATALOGUE = [
    ("变频器与驱动", [
        ("VFD-075", "通用变频器 7.5kW", "台", "4680.00", "3120.00"),
        ("VFD-220", "通用变频器 22kW", "台", "11800.00", "8150.00"),
        ("VFD-550", "高性能矢量变频器 55kW", "台", "28600.00", "20300.00"),
        ("SRV-1K5", "交流伺服驱动器 1.5kW", "套", "6200.00", "4060.00"),
        ("SRV-4K0", "交流伺服驱动器 4kW", "套", "12900.00", "8780.00"),
    ]),
    ("PLC与控制系统", [
        ("PLC-S32", "小型PLC主机 32点", "台", "3280.00", "2010.00"),
        ("PLC-M64", "中型PLC主机 64点", "台", "8960.00", "5650.00"),
        ("PLC-IO16", "数字量扩展模块 16点", "块", "1150.00", "640.00"),
        ("HMI-10", "10寸触摸屏", "台", "3900.00", "2580.00"),
        ("DCS-CAB", "DCS控制柜（标准型）", "套", "186000.00", "139500.00"),
    ]),
    ("仪器仪表", [
        ("FLM-EM50", "电磁流量计 DN50", "台", "5600.00", "3410.00"),
        ("PT-100", "压力变送器 0-1.6MPa", "台", "1860.00", "1020.00"),
        ("TT-PT100", "一体化温度变送器", "支", "620.00", "318.00"),
        ("LVL-RD", "雷达物位计", "台", "9800.00", "6270.00"),
        ("GAS-DET", "可燃气体探测器", "台", "2350.00", "1390.00"),
    ]),
    ("工业机器人与自动化", [
        ("ROB-6A10", "六轴工业机器人 10kg", "台", "168000.00", "131000.00"),
        ("ROB-SCARA", "SCARA机器人 6kg", "台", "76000.00", "57800.00"),
        ("AGV-500", "潜伏式AGV 500kg", "台", "98000.00", "71500.00"),
        ("VIS-2D", "2D视觉检测系统", "套", "42000.00", "26900.00"),
        ("CNV-LINE", "皮带输送线（每米）", "米", "2800.00", "1960.00"),
    ]),
    ("技术服务", [
        ("SVC-INST", "现场安装调试", "人天", "2400.00", "1100.00"),
        ("SVC-TRN", "操作培训", "人天", "1800.00", "700.00"),
        ("SVC-MNT", "年度维保服务", "年", "36000.00", "19800.00"),
        ("SVC-RETRO", "老旧产线改造设计", "项", "58000.00", "31000.00"),
        ("SVC-REMOTE", "远程运维平台（年费）", "年", "12000.00", "4300.00"),
    ]),
]

VOID_REASONS = ["合同文本打印错误，作废重领", "客户要求更换签约主体，原编号作废",
                "纸质合同损毁", "同一合同重复领号，作废一个"]
RETURN_REASONS = ["项目取消，编号未使用，退回", "客户暂缓采购，退回编号", "领多了，退回"]


def _director(ctx) -> Employee:
    return ctx.by_username.get("director") or Employee.objects.filter(
        roles__code=RoleCode.DIRECTOR).first()


def build_catalogue(by) -> list[Product]:
    products = []
    for order, (name, items) in enumerate(CATALOGUE, start=1):
        category = services.category_create(by=by, name=name, sort_order=order * 10)
        for code, product_name, unit, price, cost in items:
            products.append(services.product_create(
                by=by, code=code, name=product_name, category=category, unit=unit,
                list_price=Decimal(price), standard_cost=Decimal(cost)))
    services.product_deactivate(product=products[7], by=by)  # an old module, no longer sold
    return products


def build_numbers(ctx, issuer: Employee) -> int:
    """A year of numbers: each salesperson takes a few at a time, spread over the year."""
    rng = ctx.rng
    salespeople = list(Employee.objects.filter(roles__code=RoleCode.SALES)
                       .exclude(status=EmployeeStatus.LEFT).select_related("unit")
                       .order_by("number"))
    if not salespeople:
        return 0
    issues = []
    for person in salespeople:
        for _ in range(rng.randint(1, 3)):
            issues.append((person, rng.randint(1, 3)))
    rng.shuffle(issues)
    for person, count in issues:
        services.contract_number_issue(by=issuer.user, to=person, count=count)
    numbers = list(ContractNumber.objects.select_related("issued_to").order_by("year", "seq"))
    # Issued over the year so far, in sequence order (the register reads like a ledger).
    now = timezone.now()
    start = timezone.make_aware(datetime.datetime(ctx.today.year, 1, 2, 9, 0))
    span = max((now - start).total_seconds(), 3600.0)
    step = span / (len(numbers) + 1)
    for index, number in enumerate(numbers, start=1):
        number.issued_at = start + datetime.timedelta(seconds=step * index)
    ContractNumber.objects.bulk_update(numbers, ["issued_at"], batch_size=500)
    for number in numbers:
        draw = rng.random()
        if draw < 0.06:
            services.contract_number_void(number=number, by=number.issued_to.user,
                                          reason=rng.choice(VOID_REASONS))
        elif draw < 0.10:
            services.contract_number_return(number=number, by=number.issued_to.user,
                                            reason=rng.choice(RETURN_REASONS))
    closed = ContractNumber.objects.filter(closed_at__isnull=False)
    for number in closed:  # closed a few days after they were issued
        ContractNumber.objects.filter(pk=number.pk).update(
            closed_at=number.issued_at + datetime.timedelta(days=rng.randint(1, 20)))
    return len(numbers)


@transaction.atomic
def build_demo(ctx) -> None:
    director = _director(ctx)
    if director is None:
        return
    build_catalogue(director.user)
    issuer = ctx.by_username.get("finance") or director
    build_numbers(ctx, issuer)
    build_opportunities_and_expenses(ctx)  # SAL-2, SAL-7
    build_contracts(ctx, issuer)  # SAL-5, SAL-6


# --- scale ----------------------------------------------------------------------------
SCALE = {"S": 200, "M": 1_000, "L": 5_000}
SCALE_CATEGORIES = 10


def build_scale(ctx, size: str) -> None:
    """Products in bulk (no history rows): ``SCALE[size]`` across 10 categories."""
    rng = ctx.rng
    categories = ProductCategory.objects.bulk_create(
        [ProductCategory(name=f"产品类别{n:02d}", sort_order=n * 10)
         for n in range(1, SCALE_CATEGORIES + 1)])
    if categories[0].pk is None:
        categories = list(ProductCategory.objects.order_by("sort_order"))
    products = []
    for n in range(SCALE[size]):
        cost = Decimal(rng.randint(100, 2_000_000)) / 100
        price = (cost * Decimal(rng.uniform(1.1, 1.8))).quantize(Decimal("0.01"))
        products.append(Product(code=f"P{n + 1:06d}", name=f"产品{n + 1:06d}",
                                category=categories[n % len(categories)],
                                unit=rng.choice(["台", "套", "个", "米", "项"]),
                                list_price=price, standard_cost=cost,
                                is_active=rng.random() > 0.05))
    Product.objects.bulk_create(products, batch_size=1000)
    build_scale_deals(ctx, size)  # contracts, receivables and opportunities, in bulk


# === Contracts (SAL-5) and receivables (SAL-6) ==========================================
CONTRACT_TITLES = ["产线自动化改造", "变频节能改造", "仪表更新项目", "机器人工作站", "DCS控制系统",
                   "年度维保合同", "AGV物流系统", "视觉检测项目", "泵站控制改造", "备品备件采购"]
DEMO_SCAN = b"%PDF-1.4\n% bizdept demo: scan of the signed original\n%%EOF\n"


def _approve_all(document) -> None:
    """Each waiting step decided by its approver, in turn, through the engine."""
    from bizdept.approvals import services as approval_services
    from bizdept.approvals.choices import TaskStatus
    from bizdept.approvals.models import ApprovalTask

    for _round in range(6):
        task = (ApprovalTask.objects.filter(request__object_id=document.pk,
                                            request__content_type__model=document._meta
                                            .model_name, status=TaskStatus.WAITING)
                .select_related("approver__user").first())
        if task is None:
            return
        approval_services.approval_decide(task=task, by=task.approver.user,
                                          decision="approve", comment="同意")


def _instalments(rng, total: Decimal, signed_on: datetime.date) -> list[dict]:
    """Advance, delivery and (sometimes) retention, adding up exactly to the total."""
    shares = rng.choice([(Decimal("0.3"), Decimal("0.6"), Decimal("0.1")),
                         (Decimal("0.5"), Decimal("0.5")), (Decimal("0.3"), Decimal("0.7")),
                         (Decimal("1"),)])
    offsets = [rng.randint(5, 15), rng.randint(60, 120), rng.randint(300, 365)]
    rows, left = [], total
    for n, share in enumerate(shares):
        amount = left if n == len(shares) - 1 else (total * share).quantize(Decimal("0.01"))
        left -= amount
        rows.append({"due_on": signed_on + datetime.timedelta(days=offsets[n]),
                     "amount": amount})
    return rows


def build_contracts(ctx, finance: Employee) -> int:
    """A year of contracts on the issued numbers (about 60% of them), with customers the
    salesperson owns: most reported (签订前汇报, feasibility confirmed by the lead) and
    approved through the engine by amount, signed with a scan, executed, some completed,
    one or two terminated, one amended; a few drafts and reports still waiting.

    Signed contracts get a payment plan (advance / delivery / retention) and payments by
    the finance persona: on time or late, a few partial, some instalments still unpaid
    (so the aging and the collection rate are alive), two corrected by a reversal.

    Services throughout, except the payments, which are bulk-inserted with their history
    rows (a service call re-grades the customer each time: too slow for a year); the
    customers are then re-graded once at the end. Dates are moved back over the year
    afterwards (signing, creation, number use). Deterministic: only ``ctx.rng`` draws."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from bizdept.approvals.demo import ensure_default_policies
    from bizdept.customers import services as customer_services
    from bizdept.customers.models import Customer

    from .choices import ContractNumberStatus, ContractStatus
    from .models import Contract, Payment

    rng, today = ctx.rng, ctx.today
    if not Customer.objects.filter(owner__isnull=False).exists():
        return 0
    ensure_default_policies()
    products = list(Product.objects.filter(is_active=True).order_by("code"))
    numbers = list(ContractNumber.objects.filter(status=ContractNumberStatus.ISSUED)
                   .select_related("issued_to__user", "issued_to__unit")
                   .order_by("year", "seq"))
    owned: dict[int, list] = {}
    for customer in Customer.objects.filter(owner__isnull=False).order_by("pk"):
        owned.setdefault(customer.owner_id, []).append(customer)
    start = today - datetime.timedelta(days=360)
    made = []
    for number in numbers:
        person = number.issued_to
        if (person.status == EmployeeStatus.LEFT or not owned.get(person.pk)
                or rng.random() > 0.6):
            continue
        picks = rng.sample(products, rng.randint(1, 3))
        lines = [{"product": p, "quantity": rng.choice([1, 1, 2, 3, 5, 10]),
                  "unit_price": (p.list_price * Decimal(rng.uniform(0.85, 1.0)))
                  .quantize(Decimal("1"))} for p in picks]
        contract = services.contract_create(
            by=person.user, number=number, customer=rng.choice(owned[person.pk]),
            title=rng.choice(CONTRACT_TITLES), lines=lines,
            delivery_terms=f"合同签订后{rng.choice([15, 30, 45, 60])}天内交货",
            technical_terms=rng.choice(["现场380V/50Hz供电", "需客户提供PLC通讯协议",
                                        "按甲方技术协议执行"]),
            installation_terms=rng.choice(["甲方提供吊装及基础", "现场具备安装条件后3天进场",
                                           "需停产检修窗口期安装"]))
        day = max(timezone.localdate(number.issued_at), start) + datetime.timedelta(
            days=rng.randint(0, 20))
        made.append((contract, min(day, today)))
    signed, draws = [], {}
    for contract, day in made:
        draw = rng.random()
        draws[contract.pk] = draw
        if draw < 0.08:
            continue  # still a draft
        lead = contract.owner.unit.head
        if lead is not None and lead.pk != contract.owner_id and rng.random() < 0.8:
            services.contract_feasibility_confirm(contract=contract, by=lead.user)
        services.contract_report(contract=contract, by=contract.owner.user,
                                 comment="请审批")
        if draw < 0.14:
            continue  # waiting for approval
        _approve_all(contract)
        contract.refresh_from_db()
        if contract.status != ContractStatus.APPROVED:
            continue
        signed_on = min(day + datetime.timedelta(days=rng.randint(2, 10)), today)
        services.contract_sign(contract=contract, by=contract.owner.user, signed_on=signed_on,
                               scan=SimpleUploadedFile("scan.pdf", DEMO_SCAN,
                                                       content_type="application/pdf"))
        signed.append((contract, signed_on))
    payments, to_reverse = [], []
    for contract, signed_on in signed:
        age = (today - signed_on).days
        if age > 20:
            services.contract_execute(contract=contract, by=contract.owner.user)
        plan = _instalments(rng, contract.total, signed_on)
        services.contract_plan_set(contract=contract, by=finance.user, instalments=plan)
        paid_all = True
        for row in plan:
            if row["due_on"] > today:
                paid_all = False
                continue
            draw = rng.random()
            late = rng.randint(-5, 10) if draw < 0.6 else rng.randint(15, 120)
            received_on = min(row["due_on"] + datetime.timedelta(days=late), today)
            if draw > 0.88:  # not paid yet
                paid_all = False
                continue
            amount = row["amount"]
            if draw > 0.78:  # part of it
                amount = (amount * Decimal("0.5")).quantize(Decimal("0.01"))
                paid_all = False
            payments.append(Payment(contract=contract, received_on=received_on, amount=amount,
                                    method=rng.choice(["transfer", "transfer", "acceptance"]),
                                    reference=f"YH{received_on:%Y%m%d}{rng.randint(100, 999)}",
                                    entered_by=finance))
        if paid_all and age > 200 and rng.random() < 0.6:
            services.contract_complete(contract=contract, by=contract.owner.user)
    Payment.objects.bulk_create(payments, batch_size=500)
    if payments and payments[0].pk is not None:
        Payment.history.bulk_history_create(payments, default_user=finance.user)
        to_reverse = [p for p in payments if p.amount > 1000][:2]
    for payment in to_reverse:  # a wrong entry corrected, then entered again
        services.payment_reverse(payment=payment, by=finance.user, reason="银行回单金额录错")
        Payment.objects.create(contract=payment.contract, received_on=payment.received_on,
                               amount=payment.amount, method=payment.method,
                               reference=payment.reference + "-R", entered_by=finance)
    # Dates back over the year: creation and number use at the contract's day, and the term.
    for contract, day in made:
        moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
        Contract.objects.filter(pk=contract.pk).update(
            created_at=moment, starts_on=day + datetime.timedelta(days=15),
            ends_on=day + datetime.timedelta(days=rng.choice([180, 365])))
        ContractNumber.objects.filter(pk=contract.number_id).update(used_at=moment)
    executing = [c for c, _d in signed
                 if Contract.objects.filter(pk=c.pk, status=ContractStatus.EXECUTING).exists()]
    if len(executing) > 3:
        unpaid = set(Contract.objects.filter(pk__in=[c.pk for c in executing],
                                             payments__isnull=True).values_list("pk", flat=True))
        ended = next((c for c in reversed(executing) if c.pk in unpaid), executing[-1])
        services.contract_terminate(contract=ended, by=ended.owner.user,
                                    reason="客户项目取消，双方协商解除")
        amended = executing[0]
        amendment = services.contract_amend(
            contract=amended, by=amended.owner.user, reason="客户要求延期交货",
            ends_on=today + datetime.timedelta(days=90))
        _approve_all(amendment)
    customer_services.customer_grade_recompute(as_of=today)
    return len(made)


# === Opportunities (SAL-2) · Expenses (SAL-7) ===========================================
# A year of opportunities through the services (the manager's approval decided through
# the engine, priced lines from the catalogue, discounts above the threshold approved,
# evaluations on finished ones), then moved back in time; expenses: monthly budgets per
# salesperson (bulk) and claims: the past months in bulk (decided, mostly paid), this
# month through the services (drafts, pending, approved). Deterministic: ``ctx.rng``.
NEEDS = [("产线自动化改造", "现有产线人工上下料，希望引入机器人与视觉检测，提升节拍"),
         ("能耗监测与变频节能", "风机水泵常年工频运行，电费高，想做变频改造并监测能耗"),
         ("DCS控制系统升级", "老旧DCS备件停产，需要整体升级且停产窗口只有两周"),
         ("仓储AGV搬运", "仓库叉车人力紧张，评估潜伏式AGV方案"),
         ("计量仪表更新", "流量、压力仪表老化，计量误差大，需要批量更换"),
         ("设备年度维保", "多条产线设备需要年度维保与远程运维"),
         ("新厂区电气配套", "新厂区建设，需要变频器、PLC与现场安装调试")]
WIN_REASONS = ["技术方案获客户认可，价格合理", "交期满足要求，老客户复购", "服务响应快，击败竞品"]
LOSE_REASONS = ["客户预算削减，项目暂停", "竞争对手报价低15%", "客户选择了原厂直供",
                "交期无法满足"]
LESSONS = ["早期就拉技术人员参与，方案更贴合现场", "报价前先摸清客户预算和决策链",
           "安装条件要在方案阶段书面确认", "竞品价格信息要及时反馈给公司",
           "定期回访关键联系人，避免信息滞后"]
OPEN_FLOW = ["need", "approval", "solution", "implementing", "follow_up", "evaluated"]


def _decide_all(document, decision="approve", comment=""):
    from django.contrib.contenttypes.models import ContentType

    from bizdept.approvals import services as approval_services
    from bizdept.approvals.models import ApprovalTask

    content_type = ContentType.objects.get_for_model(document)
    while True:
        task = (ApprovalTask.objects.select_related("approver__user")
                .filter(request__content_type=content_type, request__object_id=document.pk,
                        request__status="pending", status="waiting").first())
        if task is None or task.approver is None or task.approver.user is None:
            return
        approval_services.approval_decide(task=task, by=task.approver.user,
                                          decision=decision, comment=comment)
        if decision != "approve":
            return


def _opportunity_story(ctx, person, customer, products, days_ago):
    """One opportunity taken as far as its story goes; returns it."""
    rng = ctx.rng
    title, need = rng.choice(NEEDS)
    created = ctx.today - datetime.timedelta(days=days_ago)
    opportunity = services.opportunity_create(
        by=person.user, customer=customer, title=f"{customer.name[:12]}·{title}", need=need,
        expected_amount=Decimal(rng.randint(2, 120) * 5000),
        expected_close_on=created + datetime.timedelta(days=rng.randint(30, 150)))
    finished = days_ago > 90 and rng.random() < 0.7
    if finished:
        target, outcome = rng.choice(OPEN_FLOW[:5]), rng.choice(["won", "won", "lost"])
    else:
        target = rng.choices(OPEN_FLOW, weights=[4, 2, 4, 3, 2, 1])[0]
        target = target if days_ago > 20 or target in ("need", "approval") else "need"
        outcome = None
    by = person.user
    reached = OPEN_FLOW.index(target)
    if reached >= 1:
        services.opportunity_submit(opportunity=opportunity, by=by, comment="请审批")
        if reached >= 2 or finished:
            if rng.random() < 0.08:
                _decide_all(opportunity, "reject", "需求不明确，客户无采购计划")
                return services.opportunity_evaluate(
                    opportunity=opportunity, by=by, score=rng.randint(1, 3),
                    lessons="立项前先确认客户的采购计划和预算")
            _decide_all(opportunity, "approve", rng.choice(["同意", "可以推进", ""]))
    opportunity.refresh_from_db()
    if opportunity.stage == "solution":
        for product in rng.sample(products, rng.randint(1, 3)):
            discount = rng.choice([0, 0, 3, 5, 8, 10, 12, 20])
            services.solution_line_add(opportunity=opportunity, by=by, product=product,
                                       quantity=rng.randint(1, 6), discount_percent=discount)
        if reached >= 3 or finished:
            if services.needs_discount_approval(opportunity):
                services.opportunity_request_discount(opportunity=opportunity, by=by)
                _decide_all(opportunity, "approve", "特价支持")
            steps = min(reached, 4) - 2 if not finished else rng.randint(0, 2)
            for _ in range(max(steps, 0)):
                services.opportunity_advance(opportunity=opportunity, by=by)
            if target == "evaluated" and not finished:
                services.opportunity_evaluate(opportunity=opportunity, by=by,
                                              score=rng.randint(3, 5),
                                              lessons=rng.choice(LESSONS))
    opportunity.refresh_from_db()
    if finished and opportunity.stage not in ("won", "lost", "approval"):
        if outcome == "won":
            services.opportunity_win(opportunity=opportunity, by=by,
                                     reason=rng.choice(WIN_REASONS))
        else:
            services.opportunity_lose(opportunity=opportunity, by=by,
                                      reason=rng.choice(LOSE_REASONS))
        services.opportunity_evaluate(opportunity=opportunity, by=by, score=rng.randint(1, 5),
                                      lessons=rng.choice(LESSONS))
    return opportunity


def _backdate_opportunities(ctx, stories) -> None:
    """Created ``days_ago`` and each stage change a few days after the one before."""
    from .models import Opportunity, OpportunityStageChange

    rng = ctx.rng
    now = timezone.now()
    opportunities, changes = [], []
    rows = OpportunityStageChange.objects.filter(
        opportunity_id__in=[o.pk for o, _ in stories]).order_by("opportunity_id", "pk")
    by_opportunity: dict[int, list] = {}
    for change in rows:
        by_opportunity.setdefault(change.opportunity_id, []).append(change)
    for opportunity, days_ago in stories:
        at = now - datetime.timedelta(days=days_ago, hours=rng.randint(0, 8))
        opportunity.created_at = at
        for change in by_opportunity.get(opportunity.pk, []):
            change.at = at
            changes.append(change)
            gap = max(days_ago, 1) / 6
            at = min(at + datetime.timedelta(days=rng.uniform(0.5, gap)), now)
        if opportunity.closed_at is not None:
            opportunity.closed_at = at
        opportunities.append(opportunity)
    Opportunity.objects.bulk_update(opportunities, ["created_at", "closed_at"], batch_size=500)
    OpportunityStageChange.objects.bulk_update(changes, ["at"], batch_size=500)


def build_opportunities(ctx, per_person: int = 6) -> int:
    from bizdept.customers.models import Customer

    rng = ctx.rng
    products = list(Product.objects.filter(is_active=True).order_by("code"))
    salespeople = list(Employee.objects.filter(roles__code=RoleCode.SALES)
                       .exclude(status=EmployeeStatus.LEFT).select_related("unit", "user")
                       .order_by("number"))
    stories = []
    for person in salespeople:
        customers = list(Customer.objects.filter(owner=person).order_by("pk")[:40])
        if not customers or not products or person.user is None:
            continue
        for _ in range(per_person):
            days_ago = rng.randint(0, 360)
            stories.append((_opportunity_story(ctx, person, rng.choice(customers), products,
                                               days_ago), days_ago))
    _backdate_opportunities(ctx, stories)
    return len(stories)


def build_expenses(ctx) -> int:
    """Monthly budgets for the past year per salesperson; claims against them."""
    from bizdept.core.periods import month_of

    from .choices import ExpenseCategory, ExpenseStatus
    from .models import ExpenseBudget, ExpenseClaim

    rng = ctx.rng
    finance = ctx.by_username.get("finance") or _director(ctx)
    salespeople = list(Employee.objects.filter(roles__code=RoleCode.SALES)
                       .exclude(status=EmployeeStatus.LEFT).select_related("unit", "user")
                       .order_by("number"))
    months = []
    first = ctx.today.replace(day=1)
    for back in range(11, -1, -1):
        year, month = first.year, first.month - back
        while month < 1:
            year, month = year - 1, month + 12
        months.append(datetime.date(year, month, 1))
    budgets, claims = [], []
    categories = [c for c, _label in ExpenseCategory.choices]
    texts = {"travel": "出差拜访客户（高铁+住宿）", "entertainment": "客户接待用餐",
             "transport": "市内打车拜访客户", "samples": "寄送样品", "other": "资料打印装订"}
    now = timezone.now()
    for person in salespeople:
        base = Decimal(rng.choice([2000, 2500, 3000, 3500, 4000]))
        heavy = rng.random() < 0.25  # some spend over their plan
        for start in months[:-1]:
            budgets.append(ExpenseBudget(employee=person, period=month_of(start), amount=base,
                                         set_by=finance, updated_at=now))
            spent = Decimal(0)
            for _ in range(rng.randint(2, 5)):
                category = rng.choice(categories)
                amount = Decimal(rng.randint(40, 1400 if not heavy else 2200)) \
                    + Decimal(rng.randint(0, 99)) / 100
                day = start + datetime.timedelta(days=rng.randint(0, 27))
                status = rng.choices([ExpenseStatus.PAID, ExpenseStatus.APPROVED,
                                      ExpenseStatus.REJECTED], weights=[80, 12, 8])[0]
                over = max(spent + amount - base, Decimal(0))
                if status != ExpenseStatus.REJECTED:
                    spent += amount
                stamp = timezone.make_aware(datetime.datetime.combine(
                    day, datetime.time(18, 0)))
                claims.append(ExpenseClaim(
                    employee=person, category=category, amount=amount, spent_on=day,
                    description=texts[category], status=status,
                    over_budget_by=min(over, amount), budget_period=month_of(start),
                    submitted_at=stamp, decided_at=stamp + datetime.timedelta(days=2),
                    paid_at=stamp + datetime.timedelta(days=9)
                    if status == ExpenseStatus.PAID else None,
                    paid_by=finance if status == ExpenseStatus.PAID else None,
                    created_at=stamp))
        # this month: the budget, and claims through the services and the engine
        budgets.append(ExpenseBudget(employee=person, period=month_of(months[-1]),
                                     amount=base, set_by=finance, updated_at=now))
    ExpenseBudget.objects.bulk_create(budgets, batch_size=1000)
    ExpenseClaim.objects.bulk_create(claims, batch_size=1000)
    count = len(claims)
    for person in salespeople[: max(1, len(salespeople) * 2 // 3)]:
        if person.user is None:
            continue
        for n in range(rng.randint(1, 3)):
            day = max(months[-1], ctx.today - datetime.timedelta(days=rng.randint(0, 20)))
            category = rng.choice(categories)
            claim = services.expense_claim_create(
                by=person.user, category=category, spent_on=min(day, ctx.today),
                amount=Decimal(rng.randint(60, 2600)), description=texts[category])
            count += 1
            if n == 0 and rng.random() < 0.3:
                continue  # a draft
            services.expense_claim_submit(claim=claim, by=person.user)
            if rng.random() < 0.5:
                _decide_all(claim, "approve", "")
    return count


def build_opportunities_and_expenses(ctx) -> None:
    from bizdept.approvals.demo import ensure_default_policies

    ensure_default_policies()  # the approvals demo has made them; alone, they are made here
    build_opportunities(ctx)
    build_expenses(ctx)
# === end of SAL-2 / SAL-7 demo ==========================================================


# === Scale: contracts (SAL-5), receivables (SAL-6), opportunities (SAL-2) ================
# size → (contracts, payments, opportunities). L is the issue's figure (400,000 contracts,
# about 1,000,000 payments); M and S are proportionally fewer, like the customers (the
# payment count is a target the draws come close to, not an exact figure).
SCALE_DEALS = {"S": (10_000, 25_000, 2_500), "M": (100_000, 250_000, 25_000),
               "L": (400_000, 1_000_000, 100_000)}
SCALE_DEAL_BATCH = 20_000
SCALE_DEAL_DAYS = 3 * 365  # contracts over the last three years
SCALE_OPPORTUNITY_DAYS = 2 * 365
# Shares of the contract total per instalment, in percent (the last takes the rest).
SCALE_PLANS = [(100,), (50, 50), (30, 70), (30, 60, 10), (30, 30, 30, 10)]
SCALE_PLAN_OFFSETS = [(5, 15), (60, 120), (180, 240), (300, 365)]
SCALE_SPLIT = 0.3  # a paid instalment arriving in two payments
SCALE_REVERSAL = 0.003  # a payment entered wrong: reversed (and mostly entered again)
SCALE_OPPORTUNITY_STAGES = {"need": 15, "approval": 8, "solution": 15, "implementing": 12,
                            "follow_up": 8, "evaluated": 7, "won": 20, "lost": 15}


def _cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


def build_scale_deals(ctx, size: str) -> dict:
    """Contracts, their lines, payment plans, payments and opportunities for benchmarks,
    written with prepared multi-row INSERTs (no services, no history rows).

    Each contract uses its own number; numbers are gapless per year (a few voided or
    returned ones in between stay on the register, as in real life) and each year's
    counter is set to its last sequence number. A contract's instalments (1–4) add up
    exactly to its total; its payments (some late, some partial, a few reversed) never
    exceed it. Owners are the salespeople owning the customers; contracts go to customers
    graded by hand only, so the rules' grades (D) stay true without a re-grade. Primary
    keys are given here, so no row is read back. Amounts are computed in integer cents.
    Deterministic: only ``ctx.rng`` draws. Returns the counts written.
    """
    from django.core.management.color import no_style
    from django.db import connection

    from bizdept.customers.demo import _insert_rows
    from bizdept.customers.models import Customer

    from .choices import ContractNumberStatus, ContractStatus
    from .models import (
        Contract,
        ContractLine,
        ContractNumberCounter,
        ContractNumberSetting,
        Opportunity,
        OpportunityStageChange,
        Payment,
        PaymentPlan,
    )
    from .numbering import render_number

    n_contracts, n_payments, n_opportunities = SCALE_DEALS[size]
    rng, today = ctx.rng, ctx.today
    owned = list(Customer.objects.filter(owner__isnull=False).order_by("pk")
                 .values_list("pk", "owner_id"))
    # Contracts (and so money) only for customers graded by hand: a grade set by the
    # rules (D, nothing received) stays what a recompute would make it.
    buying = list(Customer.objects.filter(owner__isnull=False, grade_is_manual=True)
                  .order_by("pk").values_list("pk", "owner_id")) or owned
    products = [(p.pk, _cents(p.list_price), _cents(p.standard_cost)) for p in
                Product.objects.filter(is_active=True).order_by("pk")
                .only("pk", "list_price", "standard_cost")]
    director = _director(ctx)
    finance = (Employee.objects.filter(user__username="finance").first()
               or Employee.objects.filter(roles__code=RoleCode.FINANCE).first() or director)
    if not owned or not products or finance is None:
        return {}
    sqlite = connection.vendor == "sqlite"
    ops = connection.ops

    def money(cents: int):
        text = f"{'-' if cents < 0 else ''}{abs(cents) // 100}.{abs(cents) % 100:02d}"
        return text if sqlite else Decimal(text)

    day_cache: dict = {}
    moment_cache: dict = {}

    def day_value(day):
        found = day_cache.get(day)
        if found is None:
            found = day_cache[day] = ops.adapt_datefield_value(day)
        return found

    def moment(day, hour: int = 10):
        key = (day, hour)
        found = moment_cache.get(key)
        if found is None:
            found = moment_cache[key] = ops.adapt_datetimefield_value(timezone.make_aware(
                datetime.datetime.combine(day, datetime.time(hour))))
        return found

    def next_pk(model) -> int:
        last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
        return (last or 0) + 1

    # --- who, when: drawn first, so numbers can follow the days -----------------------
    heads = []  # (created day, customer, owner)
    for _ in range(n_contracts):
        customer, owner = buying[rng.randrange(len(buying))]
        heads.append((today - datetime.timedelta(days=rng.randrange(SCALE_DEAL_DAYS)),
                      customer, owner))
    heads.sort(key=lambda h: h[0])
    pattern = ContractNumberSetting.current().pattern
    last_seq = dict(ContractNumberCounter.objects.values_list("year", "last_seq"))
    number_pk, contract_pk, payment_pk = (next_pk(ContractNumber), next_pk(Contract),
                                          next_pk(Payment))
    used_years = set()
    titles = CONTRACT_TITLES
    lost_reasons = VOID_REASONS + RETURN_REASONS
    counts = {"contracts": 0, "numbers": 0, "lines": 0, "instalments": 0, "payments": 0,
              "reversals": 0}
    number_cols = ["id", "number", "year", "seq", "status", "issued_to", "issued_by",
                   "issued_at", "contract_id", "used_at", "closed_by", "closed_at", "reason"]
    contract_cols = ["id", "number", "customer", "owner", "title", "status", "signed_on",
                     "starts_on", "ends_on", "total", "delivery_terms", "technical_terms",
                     "installation_terms", "scan", "archived", "terminated_on",
                     "termination_reason", "notes", "created_at", "updated_at"]
    line_cols = ["contract", "product", "quantity", "unit_price", "unit_cost", "amount",
                 "sort_order"]
    plan_cols = ["contract", "seq", "due_on", "amount", "note"]
    payment_cols = ["id", "contract", "received_on", "amount", "method", "reference",
                    "reverses", "reason", "entered_by", "entered_at"]
    # Calibrated so that the payments come out close to SCALE_DEALS (see the docstring).
    split = min(0.9, SCALE_SPLIT * n_payments / (2.5 * n_contracts))
    quantities = [1, 1, 2, 3, 5, 10]
    methods = ["transfer", "transfer", "acceptance"]
    stamp = timezone.now()
    now_value = ops.adapt_datetimefield_value(stamp)

    for start in range(0, len(heads), SCALE_DEAL_BATCH):
        numbers, contracts, lines, plans, payments = [], [], [], [], []
        for created, customer, owner in heads[start:start + SCALE_DEAL_BATCH]:
            year = created.year
            used_years.add(year)
            if rng.random() < 0.02:  # a spoiled or returned number between two contracts
                seq = last_seq[year] = last_seq.get(year, 0) + 1
                voided = rng.random() < 0.6
                numbers.append((number_pk, render_number(pattern, year=year, seq=seq), year,
                                seq, ContractNumberStatus.VOIDED if voided
                                else ContractNumberStatus.RETURNED, owner, finance.pk,
                                moment(created, 9), None, None, owner, moment(created, 16),
                                lost_reasons[rng.randrange(len(lost_reasons))]))
                number_pk += 1
            seq = last_seq[year] = last_seq.get(year, 0) + 1
            numbers.append((number_pk, render_number(pattern, year=year, seq=seq), year, seq,
                            ContractNumberStatus.USED, owner, finance.pk, moment(created, 9),
                            contract_pk, moment(created), None, None, ""))
            # lines
            total = 0
            for order, index in enumerate(rng.sample(range(len(products)), rng.randint(1, 3))):
                product, list_cents, cost = products[index]
                quantity = quantities[rng.randrange(6)]
                price = list_cents * rng.randint(85, 100) // 100 // 100 * 100 or list_cents
                total += quantity * price
                lines.append((contract_pk, product, quantity, money(price), money(cost),
                              money(quantity * price), order))
            # status and dates
            age = (today - created).days
            draw = rng.random()
            signed = None if draw < 0.03 else min(created + datetime.timedelta(
                days=rng.randint(2, 10)), today)
            if signed is None:
                status = ContractStatus.DRAFT
            elif draw < 0.06:
                status = ContractStatus.TERMINATED
            elif age < 20:
                status = ContractStatus.SIGNED
            elif age > 400 and rng.random() < 0.7:
                status = ContractStatus.COMPLETED
            else:
                status = ContractStatus.EXECUTING
            starts = (signed or created) + datetime.timedelta(days=15)
            ends = starts + datetime.timedelta(days=365 if rng.random() < 0.5 else 180)
            terminated = None
            if status == ContractStatus.TERMINATED:
                terminated = min(signed + datetime.timedelta(days=rng.randint(10, 200)), today)
            contracts.append((
                contract_pk, number_pk, customer, owner, titles[rng.randrange(len(titles))],
                status, day_value(signed) if signed else None, day_value(starts),
                day_value(ends), money(total), "合同签订后30天内交货", "按甲方技术协议执行",
                "现场具备安装条件后3天进场", "", status != ContractStatus.DRAFT,
                day_value(terminated) if terminated else None,
                "客户项目取消，双方协商解除" if terminated else "", "", moment(created),
                now_value))
            # plan and payments
            if signed is not None:
                shares = SCALE_PLANS[rng.randrange(len(SCALE_PLANS))]
                left, due = total, signed
                for n, share in enumerate(shares, start=1):
                    amount = left if n == len(shares) else total * share // 100
                    left -= amount
                    low, high = SCALE_PLAN_OFFSETS[n - 1]
                    due = max(signed + datetime.timedelta(days=rng.randint(low, high)),
                              due + datetime.timedelta(days=1))
                    plans.append((contract_pk, n, day_value(due), money(amount), ""))
                    counts["instalments"] += 1
                    if status == ContractStatus.COMPLETED:
                        pay = amount
                        late = rng.randint(-5, 10)
                    elif due > today or (terminated and due > terminated):
                        continue
                    else:
                        draw = rng.random()
                        late = rng.randint(-5, 10) if draw < 0.6 else rng.randint(15, 120)
                        if draw > 0.88:
                            continue  # not paid yet
                        pay = amount // 2 if draw > 0.78 else amount  # part of it
                    received = min(due + datetime.timedelta(days=late), today)
                    parts = [pay]
                    if pay >= 200 and rng.random() < split:
                        first = pay * rng.randint(30, 70) // 100
                        parts = [first, pay - first]
                    for part in parts:
                        if part <= 0:
                            continue
                        reference = f"YH{received:%Y%m%d}{rng.randint(100, 999)}"
                        method = methods[rng.randrange(3)]
                        entered = moment(received, 15)
                        payments.append((payment_pk, contract_pk, day_value(received),
                                         money(part), method, reference, None, "",
                                         finance.pk, entered))
                        wrong = payment_pk
                        payment_pk += 1
                        if rng.random() < SCALE_REVERSAL:  # reversed; mostly entered again
                            payments.append((payment_pk, contract_pk, day_value(received),
                                             money(-part), method, reference, wrong,
                                             "银行回单金额录错", finance.pk, entered))
                            payment_pk += 1
                            counts["reversals"] += 1
                            if rng.random() < 0.8:
                                payments.append((payment_pk, contract_pk, day_value(received),
                                                 money(part), method, reference + "-R", None,
                                                 "", finance.pk, entered))
                                payment_pk += 1
            number_pk += 1
            contract_pk += 1
        with transaction.atomic():
            _insert_rows(ContractNumber, number_cols, numbers)
            _insert_rows(Contract, contract_cols, contracts)
            _insert_rows(ContractLine, line_cols, lines)
            _insert_rows(PaymentPlan, plan_cols, plans)
            _insert_rows(Payment, payment_cols, payments)
        counts["contracts"] += len(contracts)
        counts["numbers"] += len(numbers)
        counts["lines"] += len(lines)
        counts["payments"] += len(payments)
    with transaction.atomic():
        for year in sorted(used_years):
            ContractNumberCounter.objects.update_or_create(
                year=year, defaults={"last_seq": last_seq[year]})

    # --- opportunities, each with its stage changes --------------------------------
    stages, weights = list(SCALE_OPPORTUNITY_STAGES), list(SCALE_OPPORTUNITY_STAGES.values())
    flow = OPEN_FLOW
    opportunity_pk = next_pk(Opportunity)
    opportunity_cols = ["id", "customer", "owner", "title", "need", "expected_amount",
                        "expected_close_on", "stage", "close_reason", "closed_at",
                        "evaluation_score", "lessons", "evaluated_at", "lines_changed_at",
                        "created_by", "created_at", "updated_at"]
    change_cols = ["opportunity", "old_stage", "new_stage", "by", "at", "comment"]
    counts["opportunities"] = counts["stage_changes"] = 0
    for start in range(0, n_opportunities, SCALE_DEAL_BATCH):
        opportunities, changes = [], []
        for _ in range(start, min(n_opportunities, start + SCALE_DEAL_BATCH)):
            customer, owner = owned[rng.randrange(len(owned))]
            created = today - datetime.timedelta(days=rng.randrange(SCALE_OPPORTUNITY_DAYS))
            stage = rng.choices(stages, weights)[0]
            if stage in ("won", "lost"):  # closed from a stage of the flow
                path = flow[:rng.choice([1, 3, 4, 5]) if stage == "won"
                            else rng.randint(1, 5)] + [stage]
            else:
                path = flow[:flow.index(stage) + 1]
            at, old = created, ""
            for new in path:
                if old:
                    at = min(at + datetime.timedelta(days=rng.randint(1, 20)), today)
                changes.append((opportunity_pk, old, new, owner, moment(at, 11), ""))
                old = new
            closed = stage in ("won", "lost")
            evaluated = stage == "evaluated" or (closed and rng.random() < 0.5)
            title, need = NEEDS[rng.randrange(len(NEEDS))]
            reasons = WIN_REASONS if stage == "won" else LOSE_REASONS
            opportunities.append((
                opportunity_pk, customer, owner, title, need,
                money(rng.randint(2, 120) * 500_000),
                day_value(created + datetime.timedelta(days=rng.randint(30, 150))), stage,
                reasons[rng.randrange(len(reasons))] if closed else "",
                moment(at, 11) if closed else None,
                rng.randint(1, 5) if evaluated else None,
                LESSONS[rng.randrange(len(LESSONS))] if evaluated else "",
                moment(at, 18) if evaluated else None, None, owner, moment(created, 11),
                now_value))
            opportunity_pk += 1
        with transaction.atomic():
            _insert_rows(Opportunity, opportunity_cols, opportunities)
            _insert_rows(OpportunityStageChange, change_cols, changes)
        counts["opportunities"] += len(opportunities)
        counts["stage_changes"] += len(changes)
    if not sqlite:  # primary keys were given: move the sequences past them
        with connection.cursor() as cursor:
            for sql in ops.sequence_reset_sql(no_style(), [
                    ContractNumber, Contract, Payment, Opportunity]):
                cursor.execute(sql)
    return counts
