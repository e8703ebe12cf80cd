"""Approval pages' forms: they parse; the services decide (and name the field on refusal)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bizdept.core.forms import BootstrapForm
from bizdept.org.forms import DateInput
from bizdept.org.models import Employee

from .choices import Decision


class DecisionForm(BootstrapForm):
    decision = forms.ChoiceField(label=_("Decision"), choices=Decision.choices,
                                 widget=forms.RadioSelect, initial=Decision.APPROVE)
    comment = forms.CharField(label=_("Comment"), max_length=2000, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("Required to reject or return."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].widget.attrs["class"] = "form-check-input"


class CancelForm(BootstrapForm):
    comment = forms.CharField(label=_("Why (optional)"), max_length=2000, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))


class DelegationForm(BootstrapForm):
    to = forms.ModelChoiceField(label=_("Delegate"), queryset=Employee.objects.none(),
                                help_text=_("Who decides your waiting approvals meanwhile."))
    starts_on = forms.DateField(label=_("From"), widget=DateInput())
    ends_on = forms.DateField(label=_("Until"), widget=DateInput())
    document_types = forms.MultipleChoiceField(
        label=_("Document types"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every document type."))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, people=None, document_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        if people is not None:
            self.fields["to"].queryset = people
        self.fields["document_types"].choices = list(document_types)
        self.fields["starts_on"].initial = timezone.localdate()
