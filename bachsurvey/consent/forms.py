"""The /withdraw/ page's form: one code, checked for its shape before any lookup."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from bachsurvey.consent import codes


class WithdrawalForm(forms.Form):
    code = forms.CharField(
        label=_("Your withdrawal code"),
        max_length=40,
        strip=True,
        error_messages={"required": _("Please type your withdrawal code.")},
    )

    def clean_code(self) -> str:
        code = codes.normalize(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(
                _("A withdrawal code has 8 letters and digits, like ABCD-2345. Please check it.")
            )
        return code
