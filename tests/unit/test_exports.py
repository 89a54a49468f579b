"""Export cells: what a spreadsheet would run as a formula is written as text."""

import pytest

from bulkimport.ingest.formulas import neutralise, neutralise_source_cell
from bulkimport.jobs.exports import _CsvRows, _XlsxRows


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")'])
def test_formula_starts_get_a_quote(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["plain", "中文", " =1", "'quoted", "1=1", ""])
def test_other_text_is_left_alone(text):
    assert neutralise(text) == text


@pytest.mark.parametrize("text", ["-5", "+3.25", "-1e5", "-.5", "1", "plain"])
def test_source_cells_keep_plain_numbers(text):
    assert neutralise_source_cell(text) == text


@pytest.mark.parametrize("text", ["-1+1", "+cmd", "=1", "@x", "-5-", "- 5", "\t5", "-5\n"])
def test_source_cells_that_could_run_get_a_quote(text):
    assert neutralise_source_cell(text) == "'" + text


def test_cells_keep_numbers_and_booleans_and_flatten_subtables():
    assert [_CsvRows._cell(v) for v in (-5, 1.5, True, None, [{"sku": "甲"}], "=x")] == [
        "-5",
        "1.5",
        "true",
        "",
        '[{"sku": "甲"}]',
        "'=x",
    ]
    assert [_XlsxRows._cell(v) for v in (-5, 1.5, True, None, "a\x00b", "-x")] == [-5, 1.5, True, None, "ab", "'-x"]
