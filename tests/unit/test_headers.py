"""Header matching (recipes/headers.py): width, surrounding spaces and case do not matter; an exact
match wins over a folded one."""

from bulkimport.recipes.headers import column_index, header_key


def test_header_key_folds_width_spaces_and_case():
    assert header_key(" EMAIL ") == header_key("Email") == header_key("\uff25\uff2d\uff21\uff29\uff2c") == "email"
    assert header_key("會員編號\u3000") == "會員編號"  # ideographic space
    assert header_key("Straße") == header_key("STRASSE")  # casefold, not lower


def test_column_index_prefers_an_exact_match_and_keeps_different_words_apart():
    assert column_index(["email", "Email"], "Email") == 1
    assert column_index(["email", "Email"], "EMAIL") == 0
    assert column_index(["\uff25\uff2d\uff21\uff29\uff2c "], "Email") == 0
    assert column_index(["E-mail"], "Email") is None
    assert column_index([], "Email") is None
