"""The statutory elements in plain words: what forms, the API and errors call each one."""

from __future__ import annotations

# §512(c)(3)(A)(i)-(vi), field name -> what a sender reads when it is missing.
NOTICE_ELEMENTS: dict[str, str] = {
    "signature": "your signature (type your full legal name)",
    "copyrighted_work": "the copyrighted work you say is infringed",
    "infringing_material": "the film or films on Affea that infringe it (page URLs or ids)",
    "address": "your postal address",
    "phone": "your telephone number",
    "email": "your email address",
    "good_faith": "the statement that you believe in good faith the use is not authorised",
    "accurate_under_penalty": (
        "the statement, under penalty of perjury, that the notice is accurate and that you "
        "are authorised to act for the owner"
    ),
}

# §512(g)(3)(A)-(D), field name -> plain words.
COUNTER_NOTICE_ELEMENTS: dict[str, str] = {
    "takedown": "the takedown reference from our mail",
    "signature": "your signature (type your full legal name)",
    "material": "the material that was removed",
    "location_before_removal": "where the material appeared before it was removed",
    "mistake_statement": (
        "the statement, under penalty of perjury, that you believe in good faith the material "
        "was removed by mistake or misidentification"
    ),
    "name": "your name",
    "address": "your postal address",
    "phone": "your telephone number",
    "jurisdiction_consent": (
        "your consent to the jurisdiction of the Federal District Court for your district "
        "(or, outside the United States, any judicial district in which Affea may be found)"
    ),
    "service_acceptance": (
        "your acceptance of service of process from the person who sent the notice"
    ),
}

STATEMENTS: dict[str, str] = {
    "good_faith": (
        "I have a good faith belief that use of the material in the manner complained of is "
        "not authorized by the copyright owner, its agent, or the law."
    ),
    "accurate_under_penalty": (
        "The information in this notification is accurate, and under penalty of perjury, I "
        "am authorized to act on behalf of the owner of an exclusive right that is allegedly "
        "infringed."
    ),
    "mistake_statement": (
        "I swear, under penalty of perjury, that I have a good faith belief that the material "
        "was removed or disabled as a result of mistake or misidentification of the material "
        "to be removed or disabled."
    ),
    "jurisdiction_consent": (
        "I consent to the jurisdiction of the Federal District Court for the judicial "
        "district in which my address is located, or, if my address is outside the United "
        "States, for any judicial district in which Affea may be found."
    ),
    "service_acceptance": (
        "I will accept service of process from the person who provided the notification "
        "or an agent of such person."
    ),
}


def missing(element: str, elements: dict[str, str]) -> str:
    return f"Please give {elements[element]}."


def phone_is_valid(value: str) -> bool:
    """A telephone number someone could dial: 7 to 20 digits with the usual punctuation."""
    digits = sum(char.isdigit() for char in value)
    return 7 <= digits <= 20 and all(char.isdigit() or char in " +-().x/ext" for char in value)


def invalid(element: str, elements: dict[str, str]) -> str:
    return f"Please check {elements[element]}: this does not look right."
