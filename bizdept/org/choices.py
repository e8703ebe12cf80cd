from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    COMPANY = "company", _("Company")
    DEPARTMENT = "department", _("Department")
    DIVISION = "division", _("Division")
    TEAM = "team", _("Team")


class EmployeeStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ON_NOTICE = "on_notice", _("On notice")
    LEFT = "left", _("Left")


class RoleCode(models.TextChoices):
    DIRECTOR = "director", _("Director")
    MANAGER = "manager", _("Division manager")
    LEAD = "lead", _("Team lead")
    SALES = "sales", _("Salesperson")
    FINANCE = "finance", _("Finance")
    HR = "hr", _("HR")
    ADMIN = "admin", _("Administrator")


class Capability(models.TextChoices):
    """What a role lets its holder do beyond the records in their own subtree (ORG-3)."""

    SEE_DEPARTMENT = "see_department", _("See the whole department")
    SEE_MONEY = "see_money", _("See money records across the department")
    SEE_PEOPLE = "see_people", _("See people records across the department")
    MANAGE_ORG = "manage_org", _("Maintain units, positions and employees")
    MANAGE_TEAM = "manage_team", _("Manage the team one heads")
    MANAGE_PRODUCTS = "manage_products", _("Maintain the product catalogue")  # SAL-1
    ADMINISTER = "administer", _("Administer the system")


ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    RoleCode.DIRECTOR: frozenset({Capability.SEE_DEPARTMENT, Capability.SEE_MONEY,
                                  Capability.SEE_PEOPLE, Capability.MANAGE_TEAM,
                                  Capability.MANAGE_PRODUCTS}),
    RoleCode.MANAGER: frozenset({Capability.MANAGE_TEAM}),
    RoleCode.LEAD: frozenset({Capability.MANAGE_TEAM}),
    RoleCode.SALES: frozenset(),
    RoleCode.FINANCE: frozenset({Capability.SEE_MONEY}),
    RoleCode.HR: frozenset({Capability.SEE_PEOPLE, Capability.MANAGE_ORG}),
    RoleCode.ADMIN: frozenset({Capability.SEE_DEPARTMENT, Capability.SEE_MONEY,
                               Capability.SEE_PEOPLE, Capability.MANAGE_ORG,
                               Capability.MANAGE_PRODUCTS, Capability.ADMINISTER}),
}
