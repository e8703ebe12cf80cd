"""ORG-1..3: units in a tree, positions, roles and employees.

The tree is kept as a materialized path (``/1/4/17/``) so that "everything under this
unit" is one indexed ``LIKE 'prefix%'`` however deep the tree is (ORG-4).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .choices import ROLE_CAPABILITIES, EmployeeStatus, RoleCode, UnitKind
from .scope import Domain, ScopedQuerySet


class Unit(models.Model):
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent unit"),
    )
    head = models.ForeignKey(
        "Employee", on_delete=models.SET_NULL, null=True, blank=True, related_name="headed_units",
        verbose_name=_("head"),
    )
    path = models.CharField(max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    history = HistoricalRecords(excluded_fields=["path", "depth"])

    class Meta:
        ordering = ["path"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")

    def __str__(self):
        return self.name

    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to and including this unit, read off the path."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def is_within(self, other: "Unit") -> bool:
        return self.path.startswith(other.path)


class Position(models.Model):
    """A job (岗位) with its responsibility text (岗位职责), shown to its holders."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    name_en = models.CharField(_("name in English"), max_length=100, blank=True)
    responsibilities = models.TextField(_("responsibilities"), blank=True)
    responsibilities_en = models.TextField(_("responsibilities in English"), blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("position")
        verbose_name_plural = _("positions")

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name_en if _is_english() and self.name_en else self.name

    @property
    def display_responsibilities(self) -> str:
        if _is_english() and self.responsibilities_en:
            return self.responsibilities_en
        return self.responsibilities


def _is_english() -> bool:
    return (get_language() or "").startswith("en")


class Role(models.Model):
    code = models.CharField(_("code"), max_length=20, choices=RoleCode.choices, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self):
        return self.get_code_display()

    @property
    def capabilities(self) -> frozenset[str]:
        return ROLE_CAPABILITIES.get(self.code, frozenset())


class EmployeeQuerySet(ScopedQuerySet):
    scope_owner_fields = ("",)  # the row is the employee itself
    scope_domain = Domain.PEOPLE

    def active(self):
        return self.exclude(status=EmployeeStatus.LEFT)

    def with_card(self):
        """What a list row or a card shows, fetched in the same query."""
        return self.select_related("unit", "position")


class Employee(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="employee",
        verbose_name=_("login"),
    )
    number = models.CharField(_("employee number"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50, db_index=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="members",
                             verbose_name=_("unit"))
    position = models.ForeignKey(Position, on_delete=models.PROTECT, related_name="holders",
                                 verbose_name=_("position"))
    roles = models.ManyToManyField(Role, blank=True, related_name="employees",
                                   verbose_name=_("roles"))
    status = models.CharField(_("status"), max_length=20, choices=EmployeeStatus.choices,
                              default=EmployeeStatus.ACTIVE, db_index=True)
    hire_date = models.DateField(_("hire date"))
    leave_date = models.DateField(_("leave date"), null=True, blank=True)
    mentor = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="mentees", verbose_name=_("mentor"))
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)

    objects = EmployeeQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[roles])

    class Meta:
        ordering = ["number"]
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(leave_date__isnull=True)
                | models.Q(leave_date__gte=models.F("hire_date")),
                name="employee_leave_after_hire",
                violation_error_message=_("The leave date cannot be before the hire date."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.number})"

    @property
    def is_left(self) -> bool:
        return self.status == EmployeeStatus.LEFT

