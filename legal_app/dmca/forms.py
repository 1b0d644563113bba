"""The public DMCA notice and counter-notice forms: one field per statutory element."""

from __future__ import annotations

from django import forms

from content_app.models import Film
from legal_app.dmca.counter import CounterSubmission
from legal_app.dmca.elements import (
    COUNTER_NOTICE_ELEMENTS,
    NOTICE_ELEMENTS,
    STATEMENTS,
    invalid,
    missing,
    phone_is_valid,
)
from legal_app.dmca.selectors import MaterialRefused, films_resolve, material_references
from legal_app.dmca.services import NoticeSubmission


def _messages(element: str, elements: dict[str, str]) -> dict[str, str]:
    return {"required": missing(element, elements), "invalid": invalid(element, elements)}


class HoneypotMixin(forms.Form):
    # Hidden from people by the template; bots that fill every field give themselves away.
    website = forms.CharField(required=False, label="Leave this field empty")

    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


class NoticeForm(HoneypotMixin):
    signature = forms.CharField(
        max_length=200, label="Signature: type your full legal name",
        error_messages=_messages("signature", NOTICE_ELEMENTS),
    )  # fmt: skip
    copyrighted_work = forms.CharField(
        max_length=5000, widget=forms.Textarea, label="The copyrighted work that is infringed",
        error_messages=_messages("copyrighted_work", NOTICE_ELEMENTS),
    )  # fmt: skip
    infringing_material = forms.CharField(
        max_length=5000, widget=forms.Textarea,
        label="The film or films on Affea that infringe it: page URLs or ids, one per line",
        error_messages=_messages("infringing_material", NOTICE_ELEMENTS),
    )  # fmt: skip
    address = forms.CharField(
        max_length=1000, widget=forms.Textarea, label="Your postal address",
        error_messages=_messages("address", NOTICE_ELEMENTS),
    )  # fmt: skip
    phone = forms.CharField(
        max_length=40, label="Your telephone number",
        error_messages=_messages("phone", NOTICE_ELEMENTS),
    )  # fmt: skip
    email = forms.EmailField(
        max_length=254, label="Your email address",
        error_messages=_messages("email", NOTICE_ELEMENTS),
    )  # fmt: skip
    good_faith = forms.BooleanField(
        label=STATEMENTS["good_faith"], error_messages=_messages("good_faith", NOTICE_ELEMENTS)
    )
    accurate_under_penalty = forms.BooleanField(
        label=STATEMENTS["accurate_under_penalty"],
        error_messages=_messages("accurate_under_penalty", NOTICE_ELEMENTS),
    )

    films: list[Film]

    def clean_infringing_material(self) -> str:
        text: str = self.cleaned_data["infringing_material"]
        references = material_references(text)
        if not references:
            raise forms.ValidationError(missing("infringing_material", NOTICE_ELEMENTS))
        try:
            self.films = films_resolve(references)
        except MaterialRefused as error:
            raise forms.ValidationError(error.message) from error
        return text

    def clean_phone(self) -> str:
        phone: str = self.cleaned_data["phone"].strip()
        if not phone_is_valid(phone):
            raise forms.ValidationError(invalid("phone", NOTICE_ELEMENTS))
        return phone

    def submission(self) -> NoticeSubmission:
        data = self.cleaned_data
        return NoticeSubmission(**{name: data[name] for name in NOTICE_ELEMENTS}, films=self.films)


class CounterNoticeForm(HoneypotMixin):
    takedown = forms.CharField(
        max_length=32, label="Takedown reference (from our mail, e.g. TD-…)",
        error_messages=_messages("takedown", COUNTER_NOTICE_ELEMENTS),
    )  # fmt: skip
    signature = forms.CharField(
        max_length=200, label="Signature: type your full legal name",
        error_messages=_messages("signature", COUNTER_NOTICE_ELEMENTS),
    )  # fmt: skip
    material = forms.CharField(
        max_length=5000, widget=forms.Textarea, label="The material that was removed",
        error_messages=_messages("material", COUNTER_NOTICE_ELEMENTS),
    )  # fmt: skip
    location_before_removal = forms.CharField(
        max_length=5000, widget=forms.Textarea,
        label="Where it appeared before it was removed (e.g. its Affea page URL)",
        error_messages=_messages("location_before_removal", COUNTER_NOTICE_ELEMENTS),
    )  # fmt: skip
    mistake_statement = forms.BooleanField(
        label=STATEMENTS["mistake_statement"],
        error_messages=_messages("mistake_statement", COUNTER_NOTICE_ELEMENTS),
    )
    name = forms.CharField(
        max_length=200, label="Your name",
        error_messages=_messages("name", COUNTER_NOTICE_ELEMENTS),
    )  # fmt: skip
    address = forms.CharField(
        max_length=1000, widget=forms.Textarea, label="Your postal address",
        error_messages=_messages("address", COUNTER_NOTICE_ELEMENTS),
    )  # fmt: skip
    phone = forms.CharField(
        max_length=40, label="Your telephone number",
        error_messages=_messages("phone", COUNTER_NOTICE_ELEMENTS),
    )  # fmt: skip
    email = forms.EmailField(
        required=False, max_length=254, label="Your email address (optional, for our reply)"
    )
    jurisdiction_consent = forms.BooleanField(
        label=STATEMENTS["jurisdiction_consent"],
        error_messages=_messages("jurisdiction_consent", COUNTER_NOTICE_ELEMENTS),
    )
    service_acceptance = forms.BooleanField(
        label=STATEMENTS["service_acceptance"],
        error_messages=_messages("service_acceptance", COUNTER_NOTICE_ELEMENTS),
    )

    def clean_phone(self) -> str:
        phone: str = self.cleaned_data["phone"].strip()
        if not phone_is_valid(phone):
            raise forms.ValidationError(invalid("phone", COUNTER_NOTICE_ELEMENTS))
        return phone

    def submission(self) -> CounterSubmission:
        data = dict(self.cleaned_data)
        data.pop("website", None)
        return CounterSubmission(takedown_reference=data.pop("takedown"), **data)
