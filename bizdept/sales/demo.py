"""Demo and scale data for the sales app (SAL), after ``bizdept.org.demo``.

``build_demo``: an industrial catalogue (5 categories, 25 products with list prices and
standard costs) created through the services by the director, and a year of contract
numbers (SAL-4) issued by finance to the salespeople through ``contract_number_issue``,
so the register is gapless by construction; the issue times are then moved back over the
year in sequence order. Most numbers are left issued (contracts will use them), a few
are voided or returned with a reason.

``build_scale``: products in bulk (numbers can wait for the contracts).

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
