import datetime
from types import SimpleNamespace

import factory
from django.contrib.auth import get_user_model

from bizdept.org import services
from bizdept.org.choices import RoleCode, UnitKind
from bizdept.org.models import Employee, Position, Unit

PASSWORD = "test-pass-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Position
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"岗位{n}")
    name_en = factory.Sequence(lambda n: f"Position {n}")
    responsibilities = "负责客户开发。"
    responsibilities_en = "Develops customers."


def make_unit(name: str, kind: str = UnitKind.TEAM, parent: Unit | None = None) -> Unit:
    """Units go through the service so their path is right."""
    return services.unit_create(name=name, kind=kind, parent=parent)


_numbers = iter(range(1, 10**9))


def make_employee(unit: Unit, *, role: str = RoleCode.SALES, username: str | None = None,
                  name: str | None = None, position: Position | None = None,
                  head_of: Unit | None = None, **extra) -> Employee:
    n = next(_numbers)
    employee = services.employee_create(
        number=f"T{n:06d}", name=name or f"员工{n}", unit=unit,
        position=position or PositionFactory(name=f"岗位-{role}"),
        hire_date=extra.pop("hire_date", datetime.date(2024, 1, 1)),
        username=username or f"u{n}", password=PASSWORD, roles=[role], **extra,
    )
    if head_of is not None:
        services.unit_update(unit=head_of, head=employee)
    return employee


class DepartmentFactory:
    """The persona department of the root conftest."""

    @staticmethod
    def build_department() -> SimpleNamespace:
        services.ensure_roles()
        company = make_unit("华远科技", UnitKind.COMPANY)
        dept = make_unit("经营部", UnitKind.DEPARTMENT, company)
        other_dept = make_unit("研发部", UnitKind.DEPARTMENT, company)
        division = make_unit("华东事业部", UnitKind.DIVISION, dept)
        team = make_unit("上海一所", UnitKind.TEAM, division)
        other_team = make_unit("杭州所", UnitKind.TEAM, division)
        ns = SimpleNamespace(company=company, department=dept, other_department=other_dept,
                             division=division, team=team, other_team=other_team)
        ns.director = make_employee(dept, role=RoleCode.DIRECTOR, username="director",
                                    name="总监", head_of=dept)
        ns.manager = make_employee(division, role=RoleCode.MANAGER, username="manager",
                                   name="经理", head_of=division)
        ns.lead = make_employee(team, role=RoleCode.LEAD, username="lead", name="所长",
                                head_of=team)
        ns.sales = make_employee(team, username="sales", name="业务员甲")
        ns.sales_mate = make_employee(team, username="sales_mate", name="业务员乙")
        ns.other_lead = make_employee(other_team, role=RoleCode.LEAD, username="other_lead",
                                      name="另一所长", head_of=other_team)
        ns.other_sales = make_employee(other_team, username="other_sales", name="业务员丙")
        ns.finance = make_employee(dept, role=RoleCode.FINANCE, username="finance", name="财务")
        ns.hr = make_employee(dept, role=RoleCode.HR, username="hr", name="人事")
        ns.admin = make_employee(dept, role=RoleCode.ADMIN, username="admin", name="管理员")
        ns.outsider = make_employee(other_dept, username="outsider", name="研发员")
        return ns
