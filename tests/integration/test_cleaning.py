"""Cleaning data on the way in, through HTTP: a recipe column's transform steps, sources + join,
default and format; a field's pattern, range, least length and phone region; a table's rules. Each is
imported (failures read back from the API) and the rules also go through batch-create and
batch_update."""

from __future__ import annotations

import pytest

from tests.helpers import csv_bytes

PEOPLE = {
    "key": "people",
    "fields": [
        {"key": "id", "type": "string", "unique": True},  # a field keyed id (v1.2: only _ keys are reserved)
        {"key": "name", "type": "string"},
        {"key": "last_name", "type": "string", "min_length": 2},
        {"key": "level", "type": "enum", "options": ["A", "B"]},
        {"key": "phone", "type": "phone", "region": "TW"},
        {"key": "code", "type": "string", "pattern": "[A-Z]{2}[0-9]+"},
        {"key": "address", "type": "string"},
        {"key": "visit_date", "type": "date", "min": "2020-01-01", "max": "2030-12-31"},
        {"key": "amount", "type": "number", "min": 0, "max": 10000},
        {"key": "visits", "type": "integer", "min": 1},
        {"key": "seen_at", "type": "datetime", "max": "2030-01-01T00:00:00Z"},
        {"key": "status", "type": "enum", "options": ["open", "closed"]},
        {"key": "closed_at", "type": "date"},
        {"key": "end_date", "type": "date"},
    ],
    "rules": [
        {"when": {"field": "status", "equals": "closed"}, "require": ["closed_at"]},
        {"check": {"field": "end_date", "op": ">=", "other": "visit_date"}},
    ],
}


def run_import(tenant, columns: list[dict], header: list[str], rows: list[list[str]], **fields) -> tuple[dict, list]:
    recipe = tenant.admin.create_recipe({"name": "r", "table": "people", "columns": columns})
    started = tenant.editor.import_file(recipe["id"], csv_bytes([header, *rows]), **fields)
    done = tenant.editor.wait(started["id"])
    failures = tenant.viewer.all_pages(f"/imports/{done['id']}/failures")
    return done, failures


def records(tenant) -> list[dict]:
    found = tenant.viewer.all_pages("/tables/people/records")
    return sorted((r["data"] for r in found), key=lambda d: d.get("id", ""))


def failed(failures: list[dict]) -> list[tuple]:
    return sorted((f["row"], f["field"], f["code"], f["value"]) for f in failures)


@pytest.fixture
def people(tenant):
    tenant.admin.create_table(PEOPLE)
    return tenant


def test_every_text_step_cleans_the_cell_before_it_is_read(people):
    columns = [
        {"source": "ID", "target": "id", "transform": ["trim", "upper"]},
        {"source": "Name", "target": "name", "transform": ["collapse_spaces", "title"]},
        {
            "source": "Full name",
            "target": "last_name",
            "transform": ["trim", {"split": {"separator": " ", "take": -1}}],
        },
        {"source": "Code", "target": "code", "transform": ["nfkc", "lower", "upper"]},
        {"source": "Phone", "target": "phone", "transform": ["trim", {"replace": {"pattern": "[^0-9+]", "with": ""}}]},
    ]
    header = ["ID", "Name", "Full name", "Code", "Phone"]
    rows = [
        ["  p1 ", "chen   da\twen", "Chen Da Wen", "\uff21\uff22\uff11\uff12", " 0912-345-678 "],
        ["p2", "LIN mei", "  Lin  ", "cd3", "(02) 2345 6789"],
    ]
    done, failures = run_import(people, columns, header, rows)
    assert failures == [] and done["success_count"] == 2
    assert records(people) == [
        {"id": "P1", "name": "Chen Da Wen", "last_name": "Wen", "code": "AB12", "phone": "+886912345678"},
        {"id": "P2", "name": "Lin Mei", "last_name": "Lin", "code": "CD3", "phone": "+886223456789"},
    ]


def test_map_keeps_empties_or_fails_what_it_does_not_know_and_default_fills_empty_cells(people):
    columns = [
        {"source": "ID", "target": "id"},
        {
            "source": "Level",
            "target": "level",
            "transform": [{"map": {"gold": "A", "金": "A", "silver": "B"}, "ignore_case": True, "otherwise": "fail"}],
            "default": "B",
        },
        {"source": "Nick", "target": "name", "transform": [{"map": {"x": "ex"}, "otherwise": "empty"}]},
        {"source": "Other", "target": "code", "transform": [{"map": {"ab": "AB1"}}]},  # otherwise keep
    ]
    header = ["ID", "Level", "Nick", "Other"]
    rows = [
        ["p1", " GOLD ", "x", "ab"],
        ["p2", "金", "y", "CD2"],
        ["p3", "", "", ""],  # empty stays empty for the steps, then the default fills it
        ["p4", "bronze", "x", "ab"],
    ]
    _done, failures = run_import(people, columns, header, rows)
    assert failed(failures) == [(4, "level", "NOT_MAPPED", "bronze")]
    assert failures[0]["message"] == "level: 'bronze' is not one of the values the recipe maps."
    assert records(people) == [
        {"id": "p1", "level": "A", "name": "ex", "code": "AB1"},
        {"id": "p2", "level": "A", "code": "CD2"},
        {"id": "p3", "level": "B"},
    ]


def test_sources_join_their_filled_cells_and_one_source_feeds_several_columns(people):
    columns = [
        {"source": "ID", "target": "id"},
        {"sources": ["City", "Street"], "join": ", ", "target": "address"},
        {"source": "Full name", "target": "name"},
        {"source": "Full name", "target": "last_name", "transform": [{"split": {"separator": " ", "take": 1}}]},
    ]
    header = ["ID", "City", "Street", "Full name"]
    rows = [["p1", "Taipei", " Xinyi Rd ", "Chen Wen"], ["p2", "", "Main St", "Lin Mei"]]
    _done, failures = run_import(people, columns, header, rows)
    assert failures == []
    assert records(people) == [
        {"id": "p1", "address": "Taipei, Xinyi Rd", "name": "Chen Wen", "last_name": "Wen"},
        {"id": "p2", "address": "Main St", "name": "Lin Mei", "last_name": "Mei"},
    ]


@pytest.mark.parametrize(
    ("date_format", "cells"),
    [
        ("YYYY-MM-DD", ["2024-05-01", "2024-5-1"]),
        ("YYYY/MM/DD", ["2024/05/01", "2024/5/1"]),
        ("DD/MM/YYYY", ["01/05/2024", "1/5/2024"]),
        ("MM/DD/YYYY", ["05/01/2024", "5/1/2024"]),
        ("DD.MM.YYYY", ["01.05.2024", "1.5.2024"]),
        ("ROC", ["113/05/01", "113.5.1", "民國113年5月1日", "113-05-01"]),
    ],
)
def test_each_date_format_reads_its_spellings_and_fails_others(people, date_format, cells):
    columns = [{"source": "ID", "target": "id"}, {"source": "Visit", "target": "visit_date", "format": date_format}]
    rows = [[f"p{n}", cell] for n, cell in enumerate(cells)] + [["bad", "31/02/2024"], ["worse", "2024-13-01x"]]
    _done, failures = run_import(people, columns, ["ID", "Visit"], rows)
    assert [r["visit_date"] for r in records(people)] == ["2024-05-01"] * len(cells)
    assert failed(failures) == [
        (len(cells) + 1, "visit_date", "INVALID_DATE", "31/02/2024"),
        (len(cells) + 2, "visit_date", "INVALID_DATE", "2024-13-01x"),
    ]


def test_a_number_format_reads_decimal_commas_and_group_dots_and_refuses_misgrouped_numbers(people):
    columns = [
        {"source": "ID", "target": "id"},
        {"source": "Amount", "target": "amount", "format": {"decimal": ",", "group": "."}},
        {"source": "Visits", "target": "visits", "format": {"decimal": ",", "group": "."}},
    ]
    rows = [["p1", "1.234,5", "1.000"], ["p2", "12,25", "3"], ["p3", "1,234.5", "2"], ["p4", "1", "2,5"]]
    _done, failures = run_import(people, columns, ["ID", "Amount", "Visits"], rows)
    assert [(r["id"], r["amount"], r["visits"]) for r in records(people)] == [("p1", 1234.5, 1000), ("p2", 12.25, 3)]
    assert failed(failures) == [(3, "amount", "INVALID_NUMBER", "1,234.5"), (4, "visits", "INVALID_INTEGER", "2,5")]


def test_a_format_that_does_not_fit_the_field_and_an_invalid_pattern_are_refused_at_the_recipe(people):
    bad_format = {"name": "r", "table": "people", "columns": [{"source": "A", "target": "amount", "format": "ROC"}]}
    response = people.admin.post("/recipes", json=bad_format)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "INVALID_RECIPE" and error["details"][0]["code"] == "FORMAT_NOT_FOR_TYPE"

    pattern = {"replace": {"pattern": "([a-z", "with": ""}}
    bad_pattern = {
        "name": "r",
        "table": "people",
        "columns": [{"source": "A", "target": "name", "transform": [pattern]}],
    }
    response = people.admin.post("/recipes", json=bad_pattern)
    assert response.status_code == 422 and response.json()["error"]["code"] == "INVALID_PATTERN"
    # A pattern RE2 refuses by design (a backreference) is refused the same way.
    pattern["replace"]["pattern"] = r"(a)\1"
    response = people.admin.post("/recipes", json=bad_pattern)
    assert response.status_code == 422 and response.json()["error"]["code"] == "INVALID_PATTERN"
    # A replacement naming a group the pattern lacks would fail every cell it matches: refused too.
    bad_pattern["columns"][0]["transform"] = [{"replace": {"pattern": "(a)", "with": "\\2"}}]
    response = people.admin.post("/recipes", json=bad_pattern)
    assert response.status_code == 422 and response.json()["error"]["code"] == "INVALID_PATTERN"
    bad_pattern["columns"][0]["transform"] = [{"replace": {"pattern": "(?P<d>[0-9])", "with": "<\\g<d>\\1>"}}]
    assert people.admin.post("/recipes", json=bad_pattern).status_code == 201
    people.admin.ok("DELETE", f"/recipes/{people.viewer.ok('GET', '/recipes')['data'][0]['id']}", 204)
    unknown_step = {
        "name": "r",
        "table": "people",
        "columns": [{"source": "A", "target": "name", "transform": ["shout"]}],
    }
    assert people.admin.post("/recipes", json=unknown_step).status_code == 422
    assert people.viewer.ok("GET", "/recipes")["meta"]["total"] == 0


def test_a_pattern_that_backtracks_catastrophically_elsewhere_answers_here(people):
    """(a+)+$ against 'aaaa...b' takes exponential time on a backtracking engine (Python's re: 2^n
    steps for n a's); on RE2 it is one linear pass, so the import finishes and says what it found."""
    evil = "(a+)+$"
    columns = [
        {"source": "ID", "target": "id"},
        {"source": "Text", "target": "name", "transform": [{"replace": {"pattern": evil, "with": "X"}}]},
    ]
    rows = [["p1", "a" * 5000 + "b"], ["p2", "a" * 40]]
    _done, failures = run_import(people, columns, ["ID", "Text"], rows)
    assert failures == []
    assert records(people) == [{"id": "p1", "name": "a" * 5000 + "b"}, {"id": "p2", "name": "X"}]
    # And as a field's pattern: checked against the whole value, in linear time too.
    fields = [{**f, "pattern": evil} if f["key"] == "name" else f for f in PEOPLE["fields"]]
    people.admin.ok("PATCH", "/tables/people", json={"fields": fields})
    body = {"records": [{"id": "p3", "name": "a" * 5000 + "b"}, {"id": "p4", "name": "a" * 30}]}
    created = people.editor.ok("POST", "/tables/people/records/batch-create", json=body)
    assert created["status"] == "partial" and created["success_count"] == 1
    assert [(f["index"], f["field"], f["code"]) for f in created["failures"]] == [(0, "name", "PATTERN_MISMATCH")]


def test_field_rules_fail_rows_with_their_codes_field_and_value(people):
    columns = [
        {"source": h, "target": t}
        for h, t in [
            ("ID", "id"),
            ("Last", "last_name"),
            ("Phone", "phone"),
            ("Code", "code"),
            ("Visit", "visit_date"),
            ("Amount", "amount"),
            ("Visits", "visits"),
            ("Seen", "seen_at"),
        ]
    ]
    header = ["ID", "Last", "Phone", "Code", "Visit", "Amount", "Visits", "Seen"]
    good = ["p1", "Wu", "0912-345-678", "AB1", "2020-01-01", "10000", "1", "2030-01-01T08:00:00+08:00"]
    rows = [
        good,
        ["p2", "W", "0912", "AB", "2019-12-31", "10000.01", "0", "2030-01-01T00:00:01Z"],
        ["p3", "Wu", "12345", "xAB1", "2031-01-01", "-1", "5", ""],
    ]
    done, failures = run_import(people, columns, header, rows)
    assert done["success_count"] == 1 and done["fail_count"] == 2
    assert records(people) == [
        {
            "id": "p1",
            "last_name": "Wu",
            "phone": "+886912345678",
            "code": "AB1",
            "visit_date": "2020-01-01",
            "amount": 10000,
            "visits": 1,
            "seen_at": "2030-01-01T00:00:00Z",
        }
    ]
    assert failed(failures) == [
        (2, "amount", "OUT_OF_RANGE", "10000.01"),
        (2, "code", "PATTERN_MISMATCH", "AB"),
        (2, "last_name", "TOO_SHORT", "W"),
        (2, "phone", "INVALID_PHONE", "0912"),
        (2, "seen_at", "OUT_OF_RANGE", "2030-01-01T00:00:01Z"),
        (2, "visit_date", "OUT_OF_RANGE", "2019-12-31"),
        (2, "visits", "OUT_OF_RANGE", "0"),
        (3, "amount", "OUT_OF_RANGE", "-1"),
        (3, "code", "PATTERN_MISMATCH", "xAB1"),
        (3, "phone", "INVALID_PHONE", "12345"),
        (3, "visit_date", "OUT_OF_RANGE", "2031-01-01"),
    ]
    # A filter reads a phone as it is stored, and a bound outside the range still filters.
    assert people.viewer.ok("GET", "/tables/people/records?filter.phone=0912-345-678")["meta"]["total"] == 1
    assert people.viewer.ok("GET", "/tables/people/records?filter.amount=20000")["meta"]["total"] == 0
    amount = next(f for f in failures if f["row"] == 2 and f["field"] == "amount")
    assert amount["message"] == "amount must be 0..10000, got '10000.01'."
    zh = people.viewer.ok("GET", f"/imports/{done['id']}/failures", headers={"Accept-Language": "zh-TW"})["data"]
    assert any("至少需要 2 個字元" in f["message"] for f in zh)


def test_table_rules_apply_to_imports_batch_create_and_batch_update_alike(people):
    columns = [
        {"source": h, "target": t}
        for h, t in [
            ("ID", "id"),
            ("Status", "status"),
            ("Closed", "closed_at"),
            ("Visit", "visit_date"),
            ("End", "end_date"),
        ]
    ]
    header = ["ID", "Status", "Closed", "Visit", "End"]
    rows = [
        ["p1", "closed", "2024-05-02", "2024-05-01", "2024-05-01"],
        ["p2", "closed", "", "2024-05-01", ""],  # closed without closed_at
        ["p3", "open", "", "2024-05-02", "2024-05-01"],  # ends before it starts
        ["p4", "open", "", "", "2024-05-01"],  # one side empty: the check passes
    ]
    _done, failures = run_import(people, columns, header, rows)
    assert failed(failures) == [(2, "closed_at", "REQUIRED_BY_RULE", ""), (3, "end_date", "RULE_FAILED", "2024-05-01")]
    assert [r["id"] for r in records(people)] == ["p1", "p4"]
    message = next(f["message"] for f in failures if f["code"] == "RULE_FAILED")
    assert message == "end_date must be >= visit_date ('2024-05-02'), got '2024-05-01'."

    body = {
        "records": [
            {"id": "p5", "status": "closed", "closed_at": "2024-01-01"},
            {"id": "p6", "status": "closed"},
            {"id": "p7", "visit_date": "2024-05-02", "end_date": "2024-05-01"},
        ]
    }
    created = people.editor.ok("POST", "/tables/people/records/batch-create", json=body)
    assert [(f["index"], f["field"], f["code"]) for f in created["failures"]] == [
        (1, "closed_at", "REQUIRED_BY_RULE"),
        (2, "end_date", "RULE_FAILED"),
    ]

    # A batch_update is checked on the values it sets: its fields' rules and the table's.
    update = {"job_name": "batch_update", "table": "people", "ids": "all", "total": 3}  # p1, p4, p5
    for changes, details in (
        ({"visit_date": "2019-01-01"}, [{"field": "visit_date", "code": "OUT_OF_RANGE"}]),
        ({"visit_date": "2024-05-02", "end_date": "2024-05-01"}, [{"field": "end_date", "code": "RULE_FAILED"}]),
        ({"status": "closed", "closed_at": ""}, [{"field": "closed_at", "code": "REQUIRED_BY_RULE"}]),
    ):
        response = people.editor.post("/jobs", json={**update, "changes": changes})
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert (error["code"], error["details"]) == ("INVALID_CHANGES", details)
    batch_code = people.editor.start_job({**update, "changes": {"status": "closed", "closed_at": "2024-06-01"}})
    assert people.viewer.wait_job(batch_code)["code"] == 200
    assert [(r["id"], r["status"], r["closed_at"]) for r in records(people)] == [
        ("p1", "closed", "2024-06-01"),
        ("p4", "closed", "2024-06-01"),
        ("p5", "closed", "2024-06-01"),
    ]


def test_rules_that_do_not_fit_the_table_are_refused(tenant):
    def refused(fields: list[dict], rules: list[dict] | None = None) -> dict:
        response = tenant.admin.post("/tables", json={"key": "t", "fields": fields, "rules": rules or []})
        assert response.status_code == 422, response.text
        return response.json()["error"]

    assert refused([{"key": "a", "pattern": "(("}])["code"] == "INVALID_PATTERN"
    assert refused([{"key": "a", "type": "date", "min": "soon"}])["code"] == "INVALID_RULE"
    assert refused([{"key": "a", "type": "integer", "min": 5, "max": 1}])["code"] == "INVALID_RULE"
    assert refused([{"key": "a", "type": "phone", "region": "XX"}])["code"] == "INVALID_RULE"
    assert refused([{"key": "a", "type": "string", "min": 1}])["code"] == "VALIDATION_ERROR"
    assert refused([{"key": "a"}], [{"check": {"field": "a", "op": ">", "other": "b"}}])["code"] == "INVALID_RULE"
    dates = [{"key": "a", "type": "date"}, {"key": "n", "type": "integer"}]
    assert refused(dates, [{"check": {"field": "a", "op": ">", "other": "n"}}])["code"] == "INVALID_RULE"
    assert refused(dates, [{"when": {"field": "n", "equals": "many"}, "require": ["a"]}])["code"] == "INVALID_RULE"


def test_a_dry_run_shows_its_first_rows_as_they_would_be_stored_and_writes_nothing(people):
    columns = [
        {"source": "ID", "target": "id", "transform": ["trim", "upper"]},
        {"source": "Amount", "target": "amount", "format": {"decimal": ",", "group": "."}},
        {"source": "Visit", "target": "visit_date", "format": "ROC"},
    ]
    rows = [[f" p{n} ", f"1.{n:03d},5", "113/05/01"] for n in range(30)]
    rows[1][1] = "oops"  # a failing row is not in the sample
    done, failures = run_import(people, columns, ["ID", "Amount", "Visit"], rows, dry_run=True)
    assert done["status"] == "completed_with_errors" and [f["row"] for f in failures] == [2]
    shown = people.viewer.ok("GET", f"/imports/{done['id']}")["data"]
    assert len(shown["sample"]) == 20
    assert shown["sample"][:2] == [
        {"row": 1, "values": {"id": "P0", "amount": 1000.5, "visit_date": "2024-05-01"}},
        {"row": 3, "values": {"id": "P2", "amount": 1002.5, "visit_date": "2024-05-01"}},
    ]
    assert [s["row"] for s in shown["sample"]] == [1, *range(3, 22)]
    assert records(people) == []
    # An import that writes carries no sample.
    written, _ = run_import(people, columns, ["ID", "Amount", "Visit"], rows[:3])
    assert people.viewer.ok("GET", f"/imports/{written['id']}")["data"]["sample"] is None
