"""The messages users read: every code in both languages with the same parameters, and the ones that
tell the user what to do say it in both."""

import re

import pytest

from bulkimport.i18n.messages import MESSAGES, render

LANGUAGES = ("en", "zh-TW")


def placeholders(template: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", template))


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_code_reads_in_both_languages_with_the_same_parameters(code):
    assert set(MESSAGES[code]) >= set(LANGUAGES)
    assert placeholders(MESSAGES[code]["en"]) == placeholders(MESSAGES[code]["zh-TW"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_encoding_uncertain_names_the_candidates_and_how_to_set_the_encoding(language):
    message = render("ENCODING_UNCERTAIN", {"candidates": "cp1254, cp1252, iso8859-9", "example": "cp1254"}, language)
    for candidate in ("cp1254", "cp1252", "iso8859-9"):
        assert candidate in message
    assert "options.encoding" in message and "UTF-8" in message
    assert "{" not in message  # every parameter filled in
