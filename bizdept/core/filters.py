"""Filter pieces every app's FilterSet shares."""

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import BooleanWidget


class YesNoAllWidget(BooleanWidget):
    """A yes/no filter whose empty choice reads "All", like every other filter."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = (("", _("All")), ("true", _("Yes")), ("false", _("No")))


class YesNoFilter(django_filters.BooleanFilter):
    """BooleanFilter with the "All / Yes / No" select; the API sends true or false."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", YesNoAllWidget)
        super().__init__(*args, **kwargs)
