"""POST /v1/recipes/suggest: a mapping proposed from a file, or from headers and sample rows, by key,
label, earlier recipes, similar names and the sample values' types; nothing stored."""

import csv
import io

from tests.files import xlsx_bytes
from tests.samples import CONTACTS, HEADER, contacts_recipe, good_row

PATH = "/recipes/suggest"


def by_source(suggestion: dict) -> dict:
    return {c["source"]: (c["target"], c["confidence"], c["reason"].split(";")[0]) for c in suggestion["columns"]}


def test_headers_are_matched_by_key_label_and_similar_names_whatever_case_spacing_or_width(tenant):
    tenant.admin.create_table(CONTACTS)
    rows = [[f"M{n}", f"客戶{n}", f"c{n}@example.com", "A", "1.5", "x"] for n in range(3)]
    body = {
        "table": "contacts",
        "headers": [" 會員編號 ", "NAME", "E-mail", "\uff2c\uff45\uff56\uff45\uff4c", "ct value", "備註"],
        "rows": rows,
    }
    suggestion = tenant.editor.ok("POST", PATH, json=body)["data"]
    assert by_source(suggestion) == {
        " 會員編號 ": ("membership_no", 1.0, "label"),
        "NAME": ("name", 1.0, "key"),
        "E-mail": ("email", 0.9, "similar_name"),
        "\uff2c\uff45\uff56\uff45\uff4c": ("level", 1.0, "key"),
        "ct value": ("ct_value", 0.9, "similar_name"),
    }
    assert suggestion["unmapped_sources"] == ["備註"]
    assert suggestion["missing_required"] == []
    assert all("values fit" in c["reason"] for c in suggestion["columns"])
    assert tenant.viewer.ok("GET", "/recipes")["meta"]["total"] == 0  # nothing stored


def test_earlier_recipes_teach_it_a_tenants_own_headers(tenant):
    tenant.admin.create_table(CONTACTS)
    recipe = contacts_recipe(name="from the CRM")
    recipe["columns"] = [{"source": "客戶名稱", "target": "name"}, {"source": "卡號", "target": "membership_no"}]
    tenant.admin.create_recipe(recipe)
    suggestion = tenant.editor.ok("POST", PATH, json={"table": "contacts", "headers": ["卡號", "客戶名稱"]})["data"]
    assert by_source(suggestion) == {
        "卡號": ("membership_no", 0.95, "earlier_recipe"),
        "客戶名稱": ("name", 0.95, "earlier_recipe"),
    }


def test_sample_values_lower_a_name_match_that_does_not_fit_and_find_a_column_no_name_matches(tenant):
    tenant.admin.create_table(CONTACTS)
    rows = [["not mail", f"person{n}@example.com", f"M{n}"] for n in range(4)]
    body = {"table": "contacts", "headers": ["Email", "聯絡方式", "會員編號"], "rows": rows}
    suggestion = tenant.editor.ok("POST", PATH, json=body)["data"]
    columns = by_source(suggestion)
    # "Email" holds no email: its name match is halved, and the column of emails wins the field.
    assert columns["聯絡方式"] == ("email", 0.5, "values: all 4 look like email")
    assert "Email" not in columns and "Email" in suggestion["unmapped_sources"]
    assert suggestion["missing_required"] == ["name"]


def test_a_file_is_read_like_an_import_reads_it(tenant):
    tenant.admin.create_table(CONTACTS)
    text = io.StringIO()
    csv.writer(text, delimiter=";").writerows([HEADER, *[good_row(n) for n in range(1, 6)]])
    sent = {"file": ("contacts.csv", text.getvalue().encode("cp950"), "text/csv")}
    suggestion = tenant.editor.ok("POST", PATH, data={"table": "contacts"}, files=sent)["data"]
    assert suggestion["options"] == {
        "has_header": True,
        "delimiter": ";",
        "encoding": "cp950",
        "sheet": None,
        "header_row": 1,
        "header_row_reason": None,
    }
    assert {c["target"] for c in suggestion["columns"]} >= {"membership_no", "ct_value"}

    workbook = xlsx_bytes({"說明": [], "二月": [HEADER, *[good_row(n) for n in range(1, 4)]]})
    sent = {"file": ("book.xlsx", workbook, "application/octet-stream")}
    suggestion = tenant.editor.ok("POST", PATH, data={"table": "contacts"}, files=sent)["data"]
    assert suggestion["options"] == {
        "has_header": True,
        "delimiter": None,
        "encoding": None,
        "sheet": "二月",
        "header_row": 1,
        "header_row_reason": None,
    }

    # A file without a header row: sources are column indexes, matched by their values.
    rows = [[f"M{n}", f"p{n}@example.com", "2026-11-22"] for n in range(5)]
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    sent = {"file": ("no-header.csv", text.getvalue().encode(), "text/csv")}
    suggestion = tenant.editor.ok("POST", PATH, data={"table": "contacts"}, files=sent)["data"]
    assert suggestion["options"]["has_header"] is False
    assert [(c["source"], c["target"]) for c in suggestion["columns"]] == [(1, "email"), (2, "visit_date")]
    assert suggestion["unmapped_sources"] == [0]


def test_a_reports_header_below_its_title_is_found_and_proposed_as_header_row(tenant):
    tenant.admin.create_table(CONTACTS)
    title = ["Contacts, exported 2026-12-01", *[None] * (len(HEADER) - 1)]
    workbook = xlsx_bytes({"報表": [title, [], HEADER, *[good_row(n) for n in range(1, 6)]]})
    sent = {"file": ("report.xlsx", workbook, "application/octet-stream")}
    suggestion = tenant.editor.ok("POST", PATH, data={"table": "contacts"}, files=sent)["data"]
    assert (suggestion["options"]["header_row"], suggestion["options"]["has_header"]) == (3, True)
    assert suggestion["options"]["header_row_reason"].startswith("row 3 is the first filled across the table's width")
    assert {c["target"] for c in suggestion["columns"]} >= {"membership_no", "ct_value", "visit_date"}

    # A file whose first row is its header: header_row stays 1, with no reason.
    text = io.StringIO()
    csv.writer(text).writerows([HEADER, *[good_row(n) for n in range(1, 4)]])
    sent = {"file": ("contacts.csv", text.getvalue().encode(), "text/csv")}
    options = tenant.editor.ok("POST", PATH, data={"table": "contacts"}, files=sent)["data"]["options"]
    assert (options["header_row"], options["header_row_reason"]) == (1, None)


def test_bad_requests_get_clear_codes(tenant, other_tenant):
    tenant.admin.create_table(CONTACTS)
    cases = [
        (tenant.viewer.post(PATH, json={"table": "contacts", "headers": ["a"]}), 403, "FORBIDDEN"),
        (tenant.editor.post(PATH, json={"table": "nope", "headers": ["a"]}), 404, "TABLE_NOT_FOUND"),
        (other_tenant.editor.post(PATH, json={"table": "contacts", "headers": ["a"]}), 404, "TABLE_NOT_FOUND"),
        (tenant.editor.post(PATH, json={"table": "contacts", "headers": []}), 422, "VALIDATION_ERROR"),
        (tenant.editor.post(PATH, data=b"{", headers={"Content-Type": "application/json"}), 400, "MALFORMED_REQUEST"),
        (tenant.editor.post(PATH, files={"table": (None, "contacts")}), 422, "FILE_REQUIRED"),
        (tenant.editor.post(PATH, files={"file": ("a.csv", b"a,b\n1,2\n")}), 422, "VALIDATION_ERROR"),
        (tenant.editor.post(PATH, data={"table": "contacts"}, files={"file": ("e.csv", b"")}), 422, "EMPTY_FILE"),
        (tenant.editor.post(PATH, data="x", headers={"Content-Type": "text/plain"}), 415, "UNSUPPORTED_MEDIA_TYPE"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text


def test_steps_and_formats_are_proposed_from_the_sample_each_with_a_reason(tenant):
    tenant.admin.create_table(CONTACTS)
    rows = [
        [" M1 ", "113/05/01", "\uff41", "\uff39\uff25\uff33"],
        ["M2", "113/05/02", " b ", "no"],
        ["M3", "112/12/31", "A", "Yes "],
    ]
    body = {"table": "contacts", "headers": ["會員編號", "visit_date", "level", "vip"], "rows": rows}
    columns = {c["target"]: c for c in tenant.editor.ok("POST", PATH, json=body)["data"]["columns"]}
    number = columns["membership_no"]
    assert number["transform"] == ["trim"] and number["format"] is None
    assert number["proposals"] == [{"step": "trim", "reason": "1 of 3 sample cells have surrounding spaces"}]
    visit = columns["visit_date"]
    assert visit["format"] == "ROC" and visit["transform"] == []
    assert visit["proposals"][0]["step"] == {"format": "ROC"} and "no other format" in visit["proposals"][0]["reason"]
    level = columns["level"]
    assert level["transform"] == ["trim", {"map": {"\uff41": "A", "b": "B"}}]
    assert "ignoring case, width and spaces" in level["proposals"][1]["reason"]
    assert columns["vip"]["transform"] == [
        "trim",
        {"map": {"\uff39\uff25\uff33": "true"}},
    ]  # "no", "Yes" read as they are

    # Samples that fit two formats (or none) get no format; values v1 reads get none either.
    rows = [["M1", "01/02/2024"], ["M2", "03/04/2024"]]
    body = {"table": "contacts", "headers": ["會員編號", "visit_date"], "rows": rows}
    columns = {c["target"]: c for c in tenant.editor.ok("POST", PATH, json=body)["data"]["columns"]}
    assert columns.get("visit_date", {}).get("format") is None  # DD/MM or MM/DD: no one format
    rows = [["M1", "13/02/2024"], ["M2", "2024-04-03"]]
    body = {"table": "contacts", "headers": ["會員編號", "visit_date"], "rows": rows}
    columns = {c["target"]: c for c in tenant.editor.ok("POST", PATH, json=body)["data"]["columns"]}
    assert columns.get("visit_date", {}).get("format") is None
