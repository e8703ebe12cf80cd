"""Forms for HR and administrators maintaining the org (ORG-1..3). They only parse;
the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from bizdept.core.forms import BootstrapForm

from .choices import EmployeeStatus, RoleCode
from .models import Employee, Position, Unit


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class UnitChoiceField(forms.ModelChoiceField):
    """Units indented by depth, so the tree reads in a plain select."""

    def label_from_instance(self, obj):
        return f"{'　' * obj.depth}{obj.name}"


class EmployeeForm(BootstrapForm):
    number = forms.CharField(label=_("Employee number"), max_length=20)
    name = forms.CharField(label=_("Name"), max_length=50)
    unit = UnitChoiceField(label=_("Unit"), queryset=Unit.objects.order_by("path"))
    position = forms.ModelChoiceField(label=_("Position"), queryset=Position.objects.all())
    hire_date = forms.DateField(label=_("Hire date"), widget=DateInput())
    mentor = forms.ModelChoiceField(label=_("Mentor"), required=False,
                                    queryset=Employee.objects.none())
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    email = forms.EmailField(label=_("Email"), required=False)

    def __init__(self, *args, mentors=None, **kwargs):
        super().__init__(*args, **kwargs)
        if mentors is not None:
            self.fields["mentor"].queryset = mentors


class EmployeeCreateForm(EmployeeForm):
    username = forms.CharField(label=_("Login name"), max_length=150)
    password = forms.CharField(label=_("Initial password"), widget=forms.PasswordInput,
                               min_length=8, max_length=128)
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=RoleCode.choices,
                                      widget=forms.CheckboxSelectMultiple)


class EmployeeRolesForm(BootstrapForm):
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=RoleCode.choices,
                                      widget=forms.CheckboxSelectMultiple, required=False)


class EmployeeStatusForm(BootstrapForm):
    status = forms.ChoiceField(label=_("Status"), choices=EmployeeStatus.choices)
    leave_date = forms.DateField(label=_("Leave date"), required=False, widget=DateInput(),
                                 help_text=_("Defaults to today when the status is Left."))


class UnitForm(BootstrapForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=Unit._meta.get_field("kind").choices)
    parent = UnitChoiceField(label=_("Parent unit"), queryset=Unit.objects.order_by("path"),
                             required=False)
    head = forms.ModelChoiceField(label=_("Head"), required=False,
                                  queryset=Employee.objects.none())
    sort_order = forms.IntegerField(label=_("Order"), min_value=0, max_value=100000,
                                    initial=0, required=False)

    def __init__(self, *args, heads=None, **kwargs):
        super().__init__(*args, **kwargs)
        if heads is not None:
            self.fields["head"].queryset = heads
