"""Sales pages' forms: they parse; the services decide (and name the field on refusal)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from bizdept.core.forms import BootstrapForm
from bizdept.org.models import Employee

from .models import ProductCategory
from .services import ISSUE_MAX


# === Products (SAL-1) ==================================================================
class ProductForm(BootstrapForm):
    code = forms.CharField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Product name"), max_length=200)
    category = forms.ModelChoiceField(label=_("Category"),
                                      queryset=ProductCategory.objects.none())
    unit = forms.CharField(label=_("Unit of measure"), max_length=20,
                           help_text=_("e.g. 台, 套, 米"))
    list_price = forms.DecimalField(label=_("List price"), min_value=0, max_digits=14,
                                    decimal_places=2)
    standard_cost = forms.DecimalField(label=_("Standard cost"), min_value=0, max_digits=14,
                                       decimal_places=2)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}),
                            required=False)

    def __init__(self, *args, categories=None, **kwargs):
        super().__init__(*args, **kwargs)
        if categories is not None:
            self.fields["category"].queryset = categories


class CategoryForm(BootstrapForm):
    name = forms.CharField(label=_("Category name"), max_length=100)
    parent = forms.ModelChoiceField(label=_("Parent category"), required=False,
                                    queryset=ProductCategory.objects.none())
    sort_order = forms.IntegerField(label=_("Sort order"), min_value=0, max_value=32767,
                                    initial=0)

    def __init__(self, *args, categories=None, **kwargs):
        super().__init__(*args, **kwargs)
        if categories is not None:
            self.fields["parent"].queryset = categories


# === Contract number register (SAL-4) ==================================================
class IssueForm(BootstrapForm):
    to = forms.ModelChoiceField(label=_("Issue to"), queryset=Employee.objects.none())
    count = forms.IntegerField(label=_("How many numbers"), min_value=1, max_value=ISSUE_MAX,
                               initial=1)

    def __init__(self, *args, holders=None, **kwargs):
        super().__init__(*args, **kwargs)
        if holders is not None:
            self.fields["to"].queryset = holders
            self.fields["to"].label_from_instance = lambda e: f"{e.name} · {e.unit.name}"


class ReasonForm(BootstrapForm):
    reason = forms.CharField(label=_("Reason"), max_length=200)
