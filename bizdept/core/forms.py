from django import forms

from .pages import style_form


class BootstrapForm(forms.Form):
    """A plain form whose widgets carry Bootstrap's classes (see partials/form.html)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self, small=False)
