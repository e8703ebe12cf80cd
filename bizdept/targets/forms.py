"""Target plan pages' forms (TGT-2..4): they parse; the services decide (and name the
field on refusal)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bizdept.core.forms import BootstrapForm
from bizdept.core.pages import style_form
from bizdept.core.periods import quarter_months, year_quarters

from .choices import Metric


# === Plans (TGT-1..4) ===================================================================
def next_year() -> int:
    return timezone.localdate().year + 1


class PlanCreateForm(BootstrapForm):
    fiscal_year = forms.IntegerField(label=_("Fiscal year"), min_value=2000, max_value=2999)
    metric = forms.ChoiceField(label=_("Metric"), choices=Metric.choices,
                               initial=Metric.REVENUE)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("fiscal_year", next_year())
        super().__init__(*args, **kwargs)


class ReviseForm(BootstrapForm):
    reason = forms.CharField(label=_("Reason for the revision"), max_length=200,
                             widget=forms.Textarea(attrs={"rows": 3}))


def month_choices(year: int) -> list[tuple[str, str]]:
    return [(m, m) for q in year_quarters(year) for m in quarter_months(q)]


class ReassignForm(BootstrapForm):
    """A leaver's remaining months to a joiner (or a colleague), from a month onwards.
    The two people are chosen by id and read together by the view (one query)."""

    from_employee = forms.TypedChoiceField(label=_("From (the person leaving)"), coerce=int)
    to_employee = forms.TypedChoiceField(label=_("To (the person taking over)"), coerce=int)
    from_month = forms.ChoiceField(label=_("From the month"))

    def __init__(self, *args, year: int, people, takers, **kwargs):
        super().__init__(*args, **kwargs)
        for name, rows in (("from_employee", people), ("to_employee", takers)):
            self.fields[name].choices = [("", "---------")] + [
                (e.pk, f"{e.name} · {e.unit.name}") for e in rows]
        self.fields["from_month"].choices = month_choices(year)


HOW_PERIODS = [("even", _("Evenly")), ("progressive", _("Progressively (each part above the "
                                                        "one before)")),
               ("last_year", _("By last year's actuals"))]
HOW_CHILDREN = [("even", _("Evenly")), ("last_year", _("By last year's actuals"))]
REMAINDER_TO = [("last", _("the last part")), ("first", _("the first part")),
                ("largest", _("the largest part"))]


class SplitForm(forms.Form):
    """One split helper (TGT-4) on one row of the grid: the row names its node (``unit``,
    ``employee``); ``across`` says whether a period is split into its child periods or a
    unit's figure among its child units and people."""

    unit = forms.IntegerField(widget=forms.HiddenInput)
    employee = forms.IntegerField(widget=forms.HiddenInput, required=False)
    across = forms.ChoiceField(choices=[("periods", _("into periods")),
                                        ("children", _("among the children"))],
                               widget=forms.HiddenInput)
    period = forms.CharField(label=_("Split"), max_length=7)
    how = forms.ChoiceField(label=_("How"), choices=HOW_PERIODS)
    step_percent = forms.DecimalField(label=_("Step %"), required=False, max_digits=6,
                                      decimal_places=2, min_value=-100, max_value=1000,
                                      help_text=_("Each part this much above the one "
                                                  "before (progressive split)."))
    remainder_to = forms.ChoiceField(label=_("Rounding remainder to"), choices=REMAINDER_TO)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)


def period_split_choices(year: int) -> list[tuple[str, str]]:
    """What a row's "split into periods" menu offers: the year into quarters, the year into
    quarters and months at once, each quarter into its months."""
    choices = [(str(year), _("the year into quarters")),
               ("all", _("the year into quarters, and each quarter into months"))]
    choices += [(q, _("%(quarter)s into months") % {"quarter": q}) for q in year_quarters(year)]
    return choices
