"""Tables and recipes the tests import into."""

CONTACTS = {
    "key": "contacts",
    "name": "客戶",
    "fields": [
        {
            "key": "membership_no",
            "label": "會員編號",
            "type": "string",
            "required": True,
            "unique": True,
            "max_length": 32,
        },
        {"key": "name", "type": "string", "required": True},
        {"key": "email", "type": "email"},
        {"key": "level", "type": "enum", "options": ["A", "B"]},
        {"key": "ct_value", "label": "測量數字", "type": "number"},
        {"key": "visits", "type": "integer"},
        {"key": "visit_date", "type": "date"},
        {"key": "vip", "type": "boolean"},
    ],
}

HEADER = ["會員編號", "姓名", "Email", "等級", "測量數字", "次數", "就診日", "VIP"]


def contacts_recipe(**overrides) -> dict:
    recipe = {
        "name": "客戶匯入",
        "table": "contacts",
        "columns": [
            {"source": "會員編號", "target": "membership_no"},
            {"source": "姓名", "target": "name"},
            {"source": "Email", "target": "email"},
            {"source": "等級", "target": "level"},
            {"source": "測量數字", "target": "ct_value"},
            {"source": "次數", "target": "visits"},
            {"source": "就診日", "target": "visit_date"},
            {"source": "VIP", "target": "vip"},
        ],
        "mode": "insert",
    }
    recipe.update(overrides)
    return recipe


def good_row(n: int) -> list[str]:
    return [
        f"M{n:06d}",
        f"客戶{n}",
        f"c{n}@example.com",
        "AB"[n % 2],
        f"{n}.5",
        str(n % 7),
        "2026-11-22",
        "yes" if n % 3 else "no",
    ]


def setup_contacts(api) -> dict:
    """Create the contacts table and its recipe; returns the recipe."""
    api.create_table(CONTACTS)
    return api.create_recipe(contacts_recipe())
