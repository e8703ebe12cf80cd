"""Customer pages' forms: they parse; the services decide (and name the field on refusal)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bizdept.core.forms import BootstrapForm
from bizdept.org.forms import DateInput
from bizdept.org.models import Employee

from .choices import CustomerKind, Grade, ReportKind, Severity, Source, Stage, VisitKind
from .models import Contact


class CustomerForm(BootstrapForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=CustomerKind.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    credit_code = forms.CharField(label=_("Unified social credit code"), max_length=40,
                                  required=False,
                                  help_text=_("18 characters; checked against GB 32100."))
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    industry = forms.CharField(label=_("Industry"), max_length=50, required=False)
    region = forms.CharField(label=_("Region"), max_length=50, required=False)
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices, initial=Source.OTHER)
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices, initial=Stage.PROSPECT)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}),
                            required=False)


class ContactForm(BootstrapForm):
    name = forms.CharField(label=_("Name"), max_length=50)
    title = forms.CharField(label=_("Title"), max_length=50, required=False)
    mobile = forms.CharField(label=_("Mobile"), max_length=40, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    wechat = forms.CharField(label=_("WeChat"), max_length=50, required=False)
    is_key = forms.BooleanField(label=_("Key person"), required=False)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}),
                            required=False)


class VisitForm(BootstrapForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=VisitKind.choices)
    visited_at = forms.DateTimeField(
        label=_("When"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                    format="%Y-%m-%dT%H:%M"))
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=Contact.objects.none(),
                                     required=False)
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 3}))
    next_step = forms.CharField(label=_("Next step"), max_length=200, required=False)
    next_on = forms.DateField(label=_("Next date"), required=False, widget=DateInput())
    coach = forms.ModelChoiceField(label=_("Coaching manager"), required=False,
                                   queryset=Employee.objects.none(),
                                   help_text=_("For a joint visit: who came along to coach."))
    latitude = forms.DecimalField(widget=forms.HiddenInput, required=False, min_value=-90,
                                  max_value=90, decimal_places=6, max_digits=9)
    longitude = forms.DecimalField(widget=forms.HiddenInput, required=False, min_value=-180,
                                   max_value=180, decimal_places=6, max_digits=9)
    accuracy_m = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args, customer=None, coaches=None, **kwargs):
        kwargs.setdefault("initial", {}).setdefault(
            "visited_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
        super().__init__(*args, **kwargs)
        if customer is not None:
            self.fields["contact"].queryset = customer.contacts.all()
        if coaches is not None:
            self.fields["coach"].queryset = coaches


class VisitReviewForm(BootstrapForm):
    review = forms.CharField(label=_("Coach's review"), widget=forms.Textarea(attrs={"rows": 3}))
    improvement_points = forms.CharField(label=_("Points to improve"), required=False,
                                         widget=forms.Textarea(attrs={"rows": 3}))


class TransferForm(BootstrapForm):
    to_owner = forms.ModelChoiceField(label=_("New owner"), queryset=Employee.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        if owners is not None:
            self.fields["to_owner"].queryset = owners


class ReleaseForm(BootstrapForm):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class GradeForm(BootstrapForm):
    grade = forms.ChoiceField(label=_("Grade"), choices=Grade.choices)
    reason = forms.CharField(label=_("Reason"), max_length=200)


# --- field reports (CUS-8) -----------------------------------------------------------
class FieldReportFilterForm(forms.Form):
    """The period of the field-report check; at most FIELD_REPORT_MAX_DAYS days."""

    since = forms.DateField(label=_("From"), widget=DateInput())
    until = forms.DateField(label=_("To"), widget=DateInput())
    missed = forms.BooleanField(label=_("Missed days only"), required=False)

    def clean(self):
        from .selectors import FIELD_REPORT_MAX_DAYS

        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until:
            if until < since:
                self.add_error("until", _("The end cannot be before the start."))
            elif (until - since).days >= FIELD_REPORT_MAX_DAYS:
                self.add_error("until", _("Choose at most %d days.") % FIELD_REPORT_MAX_DAYS)
        return data


# --- complaints, surveys, market intelligence (CUS-9..11) ----------------------------
class ComplaintEditForm(BootstrapForm):
    title = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Description"),
                                  widget=forms.Textarea(attrs={"rows": 4}))
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices,
                                 initial=Severity.MEDIUM,
                                 help_text=_("Sets the deadline: critical 24 hours, high 2 "
                                             "days, medium 5 days, low 10 days."))


class ComplaintForm(ComplaintEditForm):
    handler = forms.ModelChoiceField(label=_("Handler"), queryset=Employee.objects.none(),
                                     required=False,
                                     help_text=_("Default: the customer's owner."))
    received_at = forms.DateTimeField(
        label=_("Received at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                           format="%Y-%m-%dT%H:%M"))

    def __init__(self, *args, handlers=None, **kwargs):
        kwargs.setdefault("initial", {}).setdefault(
            "received_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
        super().__init__(*args, **kwargs)
        if handlers is not None:
            self.fields["handler"].queryset = handlers


class ResolveForm(BootstrapForm):
    resolution = forms.CharField(label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 3}))


class ReassignForm(BootstrapForm):
    handler = forms.ModelChoiceField(label=_("New handler"), queryset=Employee.objects.none())

    def __init__(self, *args, handlers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if handlers is not None:
            self.fields["handler"].queryset = handlers


SCORE_CHOICES = [(n, str(n)) for n in range(5, 0, -1)]


class SurveyForm(BootstrapForm):
    period = forms.CharField(label=_("Period"), max_length=7,
                             help_text=_("A quarter (2026-Q3) or a month (2026-07)."))
    surveyed_on = forms.DateField(label=_("Surveyed on"), widget=DateInput())
    service = forms.TypedChoiceField(label=_("Service"), choices=SCORE_CHOICES, coerce=int)
    delivery = forms.TypedChoiceField(label=_("Delivery"), choices=SCORE_CHOICES, coerce=int)
    product = forms.TypedChoiceField(label=_("Product"), choices=SCORE_CHOICES, coerce=int)
    comment = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}),
                              required=False)

    def __init__(self, *args, **kwargs):
        today = timezone.localdate()
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("surveyed_on", today)
        initial.setdefault("period", f"{today.year}-Q{(today.month - 1) // 3 + 1}")
        super().__init__(*args, **kwargs)


class MarketReportForm(BootstrapForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=ReportKind.choices)
    title = forms.CharField(label=_("Subject"), max_length=200)
    text = forms.CharField(label=_("Report"), widget=forms.Textarea(attrs={"rows": 5}))
    region = forms.CharField(label=_("Region"), max_length=50, required=False)
    reported_on = forms.DateField(label=_("Reported on"), widget=DateInput())

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("reported_on", timezone.localdate())
        super().__init__(*args, **kwargs)
