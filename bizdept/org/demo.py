"""The demo department (DESIGN.md) and the bigger scale departments for benchmarks.

Both are deterministic: Faker with a fixed seed, so every run builds the same people.
Later apps add their own ``demo.py`` with the same two functions and are listed in
``bizdept.core.management.commands.demo.DEMO_MODULES``.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from faker import Faker

from . import services
from .choices import RoleCode, UnitKind
from .models import Employee, Position, Role, Unit

DEMO_PASSWORD = "bizdept-demo"
SEED = 20260101


@dataclass
class DemoContext:
    """What one app's demo builder hands to the next: the people, by role."""

    today: datetime.date
    rng: random.Random
    faker: Faker
    company: Unit | None = None
    department: Unit | None = None
    divisions: list[Unit] = field(default_factory=list)
    teams: list[Unit] = field(default_factory=list)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (role, username, name)
    by_username: dict[str, Employee] = field(default_factory=dict)

    @classmethod
    def new(cls, today: datetime.date | None = None) -> DemoContext:
        faker = Faker("zh_CN")
        faker.seed_instance(SEED)
        return cls(today=today or timezone.localdate(), rng=random.Random(SEED), faker=faker)


POSITIONS = {
    "director": ("部门总监", "Department director",
                 "负责经营部的整体工作，对公司的经营目标负责。\n"
                 "制定经营战略和业务目标，确保部门工作与公司整体战略一致。\n"
                 "监督和指导分管经理的工作，确保各项业务顺利进行。\n"
                 "定期向公司高层汇报经营情况，为决策提供数据支持。\n"
                 "培养和选拔优秀人才，提升部门整体实力。",
                 "Runs the business department and answers for its targets.\n"
                 "Sets strategy and yearly targets in line with the company's.\n"
                 "Guides and supervises the division managers.\n"
                 "Reports results to the company's leadership with figures.\n"
                 "Develops and selects talent."),
    "manager": ("分管经理", "Division manager",
                "负责所管辖业务板块的日常管理工作，确保业务目标的实现。\n"
                "制定所管辖业务的具体计划和策略，推动业务发展。\n"
                "对业务团队的绩效进行评估，提供培训和激励措施。\n"
                "协调与其他部门的合作，确保业务流程的顺畅。",
                "Runs a division day to day and answers for its targets.\n"
                "Plans the division's business and strategy.\n"
                "Appraises the teams, trains and motivates them.\n"
                "Coordinates with other departments."),
    "lead": ("业务所长", "Team lead",
             "制定团队招聘与培训计划，合理配置岗位。\n"
             "建立团队绩效考核体系，定期考核并进行绩效面谈，制定改进计划。\n"
             "每天组织晨会，安排当天任务，明确责任人、时间节点和工作要求。\n"
             "带领团队开发新客户，定期回访重要客户，处理客户投诉。\n"
             "超出自身权限的问题及时向上级汇报。",
             "Plans hiring and training for the team.\n"
             "Appraises the team, holds review interviews and agrees improvement plans.\n"
             "Holds the morning meeting and assigns the day's tasks with owner and deadline.\n"
             "Leads customer development, revisits key customers, handles complaints.\n"
             "Escalates what is beyond their authority."),
    "sales": ("业务员", "Salesperson",
              "负责具体的业务执行，如客户开发、市场拓展、产品销售等工作。\n"
              "维护客户关系，提供优质的客户服务。\n"
              "参与业务培训，不断提升自身业务能力。\n"
              "及时反馈市场信息，为部门决策提供依据。",
              "Develops customers and sells.\n"
              "Keeps customer relationships and serves them well.\n"
              "Takes part in training.\n"
              "Reports market information back to the department."),
    "finance": ("财务专员", "Finance officer",
                "登记回款，核对应收账款，出具账龄与回款统计。",
                "Enters payments, reconciles receivables, reports aging and collections."),
    "hr": ("人事专员", "HR officer",
           "维护组织架构与人员档案，办理入职、调岗与离职。",
           "Keeps the org tree and personnel records; handles joining, transfers and leaving."),
    "admin": ("系统管理员", "System administrator",
              "维护系统配置、账号与权限。",
              "Maintains the system's settings, logins and permissions."),
}


def _positions() -> dict[str, Position]:
    result = {}
    for key, (name, name_en, duties, duties_en) in POSITIONS.items():
        position = Position.objects.filter(name=name).first()
        result[key] = position or services.position_save(
            name=name, name_en=name_en, responsibilities=duties, responsibilities_en=duties_en)
    return result


DIVISIONS = [("华东事业部", ["上海一所", "杭州所", "南京所"]),
             ("华南事业部", ["广州所", "深圳所", "厦门所"]),
             ("华北事业部", ["北京一所", "天津所", "济南所"])]


@transaction.atomic
def build_demo(ctx: DemoContext) -> None:
    """One director, 3 divisions, 9 teams of a lead and 5 salespeople, plus finance, HR and
    an administrator in the department itself: 61 people."""
    services.ensure_roles()
    positions = _positions()
    f, rng = ctx.faker, ctx.rng
    seq = iter(range(1, 10_000))
    password_hash = make_password(DEMO_PASSWORD)

    def hire(username, role, unit, position, years_back=(1, 8)):
        days = rng.randint(years_back[0] * 365, years_back[1] * 365)
        employee = services.employee_create(
            number=f"E{next(seq):05d}", name=f.name(), unit=unit, position=positions[position],
            hire_date=ctx.today - datetime.timedelta(days=days), username=username,
            password_hash=password_hash, roles=[role], phone=f.phone_number(),
            email=f"{username}@demo.bizdept.local", language="zh-hans",
        )
        ctx.by_username[username] = employee
        return employee

    ctx.company = services.unit_create(name="华远科技股份有限公司", kind=UnitKind.COMPANY,
                                       parent=None)
    ctx.department = services.unit_create(name="经营部", kind=UnitKind.DEPARTMENT,
                                          parent=ctx.company)
    director = hire("director", RoleCode.DIRECTOR, ctx.department, "director", (6, 12))
    services.unit_update(unit=ctx.department, head=director)
    ctx.logins.append((RoleCode.DIRECTOR, "director", director.name))
    for role, username in ((RoleCode.FINANCE, "finance"), (RoleCode.HR, "hr"),
                           (RoleCode.ADMIN, "admin")):
        person = hire(username, role, ctx.department, role)
        ctx.logins.append((role, username, person.name))
    admin_user = ctx.by_username["admin"].user
    admin_user.is_staff = True
    admin_user.is_superuser = True
    admin_user.save(update_fields=["is_staff", "is_superuser"])

    for d_index, (division_name, team_names) in enumerate(DIVISIONS, start=1):
        division = services.unit_create(name=division_name, kind=UnitKind.DIVISION,
                                        parent=ctx.department, sort_order=d_index)
        ctx.divisions.append(division)
        manager = hire(f"manager{d_index}", RoleCode.MANAGER, division, "manager", (4, 10))
        services.unit_update(unit=division, head=manager)
        for t_index, team_name in enumerate(team_names, start=1):
            team = services.unit_create(name=team_name, kind=UnitKind.TEAM, parent=division,
                                        sort_order=t_index)
            ctx.teams.append(team)
            n = (d_index - 1) * 3 + t_index
            lead = hire(f"lead{n}", RoleCode.LEAD, team, "lead", (3, 9))
            services.unit_update(unit=team, head=lead)
            for s_index in range(1, 6):
                sales = hire(f"sales{n}{s_index}" if n > 1 or s_index > 1 else "sales",
                             RoleCode.SALES, team, "sales", (0, 6))
                if s_index > 3:  # the newest two learn from a senior colleague (一带一)
                    senior = ctx.by_username[f"sales{n}1" if n > 1 else "sales"]
                    services.employee_update(employee=sales, mentor=senior)
    ctx.logins[1:1] = [
        (RoleCode.MANAGER, "manager1", ctx.by_username["manager1"].name),
        (RoleCode.LEAD, "lead1", ctx.by_username["lead1"].name),
        (RoleCode.SALES, "sales", ctx.by_username["sales"].name),
        (RoleCode.SALES, "sales21", ctx.by_username["sales21"].name),
    ]
    # One person on notice and one who left, so statuses are real in every list.
    services.employee_set_status(employee=ctx.by_username["sales95"], status="on_notice")
    services.employee_set_status(employee=ctx.by_username["sales94"], status="left",
                                 leave_date=ctx.today - datetime.timedelta(days=20))


SIZES = {"S": (100, 15), "M": (500, 75), "L": (2000, 300)}


@transaction.atomic
def build_scale(ctx: DemoContext, size: str) -> None:
    """A department of N people in T teams (size L: 2,000 people in 300 teams), written in
    bulk. Logins are the same as the demo's for the top roles."""
    total, n_teams = SIZES[size]
    services.ensure_roles()
    positions = _positions()
    roles = {r.code: r for r in Role.objects.all()}
    f, rng = ctx.faker, ctx.rng
    User = get_user_model()
    password = make_password(DEMO_PASSWORD)
    n_divisions = max(2, n_teams // 10)

    ctx.company = services.unit_create(name="华远科技股份有限公司", kind=UnitKind.COMPANY,
                                       parent=None)
    ctx.department = services.unit_create(name="经营部", kind=UnitKind.DEPARTMENT,
                                          parent=ctx.company)
    plan = []  # (username, role, unit, position)
    plan.append(("director", RoleCode.DIRECTOR, ctx.department, "director"))
    for role in ("finance", "hr", "admin"):
        plan.append((role, role, ctx.department, role))
    for d in range(n_divisions):
        division = services.unit_create(name=f"{f.province()}事业部{d + 1}",
                                        kind=UnitKind.DIVISION, parent=ctx.department,
                                        sort_order=d)
        ctx.divisions.append(division)
        plan.append((f"manager{d + 1}", RoleCode.MANAGER, division, "manager"))
    for t in range(n_teams):
        division = ctx.divisions[t % n_divisions]
        team = services.unit_create(name=f"{f.city_name()}{t + 1}所", kind=UnitKind.TEAM,
                                    parent=division, sort_order=t)
        ctx.teams.append(team)
        plan.append((f"lead{t + 1}", RoleCode.LEAD, team, "lead"))
    remaining = total - len(plan)
    for i in range(remaining):
        team = ctx.teams[i % n_teams]
        username = "sales" if i == 0 else f"s{i:05d}"
        plan.append((username, RoleCode.SALES, team, "sales"))

    users = User.objects.bulk_create(
        [User(username=u, password=password, email=f"{u}@scale.bizdept.local")
         for u, *_ in plan], batch_size=1000)
    employees = Employee.objects.bulk_create([
        Employee(user=user, number=f"E{i + 1:06d}", name=f.name(), unit=unit,
                 position=positions[position], phone=f.phone_number(),
                 hire_date=ctx.today - datetime.timedelta(days=rng.randint(0, 3650)))
        for i, (user, (_, _, unit, position)) in enumerate(zip(users, plan, strict=True))
    ], batch_size=1000)
    Through = Employee.roles.through
    Through.objects.bulk_create([Through(employee=e, role=roles[p[1]])
                                 for e, p in zip(employees, plan, strict=True)], batch_size=2000)
    heads = {p[2].pk: e for e, p in zip(employees, plan, strict=True)
             if p[1] in (RoleCode.DIRECTOR, RoleCode.MANAGER, RoleCode.LEAD)}
    for unit in [ctx.department, *ctx.divisions, *ctx.teams]:
        Unit.objects.filter(pk=unit.pk).update(head=heads[unit.pk])
    admin = users[3]
    User.objects.filter(pk=admin.pk).update(is_staff=True, is_superuser=True)
    ctx.logins = [(p[1], p[0], e.name) for e, p in zip(employees, plan, strict=True)
                  if p[0] in ("director", "manager1", "lead1", "sales", "finance", "hr", "admin")]
