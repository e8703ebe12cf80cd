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


# === Opportunities (SAL-2) ==============================================================
from bizdept.customers.models import Customer  # noqa: E402 - this section's own imports

from .choices import ExpenseCategory  # noqa: E402
from .models import PERCENT_MAX, Product  # noqa: E402


class DateInput(forms.DateInput):
    """An ``<input type=date>`` needs ISO dates whatever the language (zh-hans would
    render 2025/03/01, which the browser drops: the initial date would vanish)."""

    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class OpportunityForm(BootstrapForm):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none())
    title = forms.CharField(label=_("Opportunity subject"), max_length=200)
    need = forms.CharField(label=_("Customer need"), required=False, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 4}))
    expected_amount = forms.DecimalField(label=_("Expected amount"), min_value=0,
                                         max_digits=14, decimal_places=2, initial=0)
    expected_close_on = forms.DateField(label=_("Expected close date"), required=False,
                                        widget=DateInput)
    owner = forms.ModelChoiceField(label=_("Opportunity owner"), required=False,
                                   queryset=Employee.objects.none(),
                                   help_text=_("Default: the customer's owner."))

    def __init__(self, *args, customers=None, owners=None, edit=False, **kwargs):
        super().__init__(*args, **kwargs)
        if customers is not None:
            self.fields["customer"].queryset = customers
        if owners is not None:
            self.fields["owner"].queryset = owners
            self.fields["owner"].label_from_instance = lambda e: f"{e.name} · {e.unit.name}"
        if edit:
            del self.fields["customer"]
            self.fields["owner"].required = True
            self.fields["owner"].help_text = ""


class CommentForm(BootstrapForm):
    comment = forms.CharField(label=_("Comment"), required=False, max_length=500,
                              widget=forms.Textarea(attrs={"rows": 2}))


class EvaluationForm(BootstrapForm):
    score = forms.TypedChoiceField(label=_("Evaluation score"), coerce=int,
                                   choices=[(n, str(n)) for n in range(5, 0, -1)])
    lessons = forms.CharField(label=_("Lessons learned"), required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 4}))


class SolutionLineForm(BootstrapForm):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none())
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, max_digits=12,
                                  decimal_places=2, initial=1)
    unit_price = forms.DecimalField(label=_("Unit price"), min_value=0, max_digits=14,
                                    decimal_places=2, required=False,
                                    help_text=_("Empty: the product's list price."))
    discount_percent = forms.DecimalField(label=_("Discount %"), min_value=0,
                                          max_value=PERCENT_MAX, max_digits=5,
                                          decimal_places=2, initial=0)

    def __init__(self, *args, products=None, edit=False, **kwargs):
        super().__init__(*args, **kwargs)
        if products is not None:
            self.fields["product"].queryset = products
            self.fields["product"].label_from_instance = lambda p: f"{p.code} {p.name}"
        if edit:
            del self.fields["product"]
            self.fields["unit_price"].required = True


# === Expenses (SAL-7) ===================================================================
class ExpenseForm(BootstrapForm):
    category = forms.ChoiceField(label=_("Expense category"), choices=ExpenseCategory.choices)
    amount = forms.DecimalField(label=_("Claimed amount"), min_value=0, max_digits=14,
                                decimal_places=2)
    spent_on = forms.DateField(label=_("Spent on"), widget=DateInput)
    description = forms.CharField(label=_("Expense description"), required=False,
                                  max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    customer = forms.ModelChoiceField(label=_("Customer"), required=False,
                                      queryset=Customer.objects.none())

    def __init__(self, *args, customers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if customers is not None:
            self.fields["customer"].queryset = customers


class BudgetForm(BootstrapForm):
    employee = forms.ModelChoiceField(label=_("Employee"), queryset=Employee.objects.none())
    period = forms.CharField(label=_("Budget period"), max_length=7,
                             help_text=_("A month such as 2026-07 or a quarter such as "
                                         "2026-Q3."))
    amount = forms.DecimalField(label=_("Budget amount"), min_value=0, max_digits=14,
                                decimal_places=2)

    def __init__(self, *args, people=None, **kwargs):
        super().__init__(*args, **kwargs)
        if people is not None:
            self.fields["employee"].queryset = people
            self.fields["employee"].label_from_instance = lambda e: f"{e.name} · {e.unit.name}"
# === end of SAL-2 / SAL-7 forms =========================================================


# === Contracts (SAL-5) ==================================================================
# (DateInput, CommentForm come from the opportunities' section; ReasonForm from SAL-4)
from bizdept.org.models import Unit  # noqa: E402

from .choices import PaymentMethod  # noqa: E402
from .models import SCAN_MAX_BYTES, ContractNumber  # noqa: E402


class ContractForm(BootstrapForm):
    number = forms.ModelChoiceField(label=_("Contract number"),
                                    queryset=ContractNumber.objects.none(),
                                    help_text=_("One of your issued numbers (合同领用登记)."))
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none())
    title = forms.CharField(label=_("Contract title"), max_length=200)
    starts_on = forms.DateField(label=_("Starts on"), required=False, widget=DateInput)
    ends_on = forms.DateField(label=_("Ends on"), required=False, widget=DateInput)
    delivery_terms = forms.CharField(
        label=_("Delivery time (工期)"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Checked by the delivery side before signing (签订前汇报)."))
    technical_terms = forms.CharField(label=_("Technical conditions"), required=False,
                                      max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    installation_terms = forms.CharField(label=_("Installation conditions"), required=False,
                                         max_length=4000,
                                         widget=forms.Textarea(attrs={"rows": 2}))
    notes = forms.CharField(label=_("Notes"), required=False, max_length=4000,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, numbers=None, customers=None, edit=False, **kwargs):
        super().__init__(*args, **kwargs)
        if numbers is not None:
            self.fields["number"].queryset = numbers
        if customers is not None:
            self.fields["customer"].queryset = customers
        if edit:
            del self.fields["number"]


class ContractLineForm(BootstrapForm):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none())
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0, max_digits=12,
                                  decimal_places=2, initial=1)
    unit_price = forms.DecimalField(label=_("Unit price"), min_value=0, max_digits=14,
                                    decimal_places=2)
    unit_cost = forms.DecimalField(label=_("Unit cost"), min_value=0, max_digits=14,
                                   decimal_places=2, required=False,
                                   help_text=_("Empty: the product's standard cost."))

    def __init__(self, *args, products=None, **kwargs):
        super().__init__(*args, **kwargs)
        if products is not None:
            self.fields["product"].queryset = products
            self.fields["product"].label_from_instance = lambda p: f"{p.code} {p.name}"


class SignForm(BootstrapForm):
    signed_on = forms.DateField(label=_("Signed on"), widget=DateInput)
    scan = forms.FileField(label=_("Scan of the signed original"),
                           help_text=_("PDF, JPEG or PNG, at most %d MB; the original is "
                                       "then marked filed (原件存档).")
                           % (SCAN_MAX_BYTES // 1024 // 1024))


class AmendmentForm(BootstrapForm):
    reason = forms.CharField(label=_("Reason"), max_length=200)
    starts_on = forms.DateField(label=_("New start date"), required=False, widget=DateInput)
    ends_on = forms.DateField(label=_("New end date"), required=False, widget=DateInput)
    change_lines = forms.BooleanField(label=_("Change the lines as below"), required=False)


class AmendLineForm(ContractLineForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


AmendLineFormSet = forms.formset_factory(AmendLineForm, extra=2, max_num=200)


class InstalmentForm(BootstrapForm):
    due_on = forms.DateField(label=_("Due on"), required=False, widget=DateInput)
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=14, decimal_places=2,
                                required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


InstalmentFormSet = forms.formset_factory(InstalmentForm, extra=2, max_num=60)


class PaymentForm(BootstrapForm):
    received_on = forms.DateField(label=_("Received on"), widget=DateInput)
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=14, decimal_places=2)
    method = forms.ChoiceField(label=_("Payment method"), choices=PaymentMethod.choices)
    reference = forms.CharField(label=_("Bank reference"), max_length=100, required=False)


class ReceivablesFilterForm(BootstrapForm):
    as_of = forms.DateField(label=_("As of"), required=False, widget=DateInput)
    unit = forms.ModelChoiceField(label=_("Unit"), required=False, empty_label=_("All"),
                                  queryset=Unit.objects.order_by("path"))


class CollectionFilterForm(BootstrapForm):
    since = forms.DateField(label=_("From"), widget=DateInput)
    until = forms.DateField(label=_("Until"), widget=DateInput)
    unit = forms.ModelChoiceField(label=_("Unit"), required=False, empty_label=_("All"),
                                  queryset=Unit.objects.order_by("path"))
# === end of Contracts (SAL-5) forms =====================================================
