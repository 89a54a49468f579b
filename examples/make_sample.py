"""Write a contacts CSV of N rows (default 10,000) in which every 250th row is bad in a known way.

    python examples/make_sample.py [rows] [path]

The bad rows cycle through the failure codes a user meets most, so a first import shows each of them.
"""

import csv
import sys

HEADER = ["會員編號", "姓名", "Email", "等級", "測量數字", "就診日"]
BAD = [
    ("Email", "not-an-email"),  # INVALID_EMAIL
    ("等級", "C"),  # NOT_IN_OPTIONS
    ("測量數字", "twelve"),  # INVALID_NUMBER
    ("就診日", "2026-02-30"),  # INVALID_DATE
    ("會員編號", ""),  # REQUIRED
    ("會員編號", "M" + "9" * 40),  # TOO_LONG
]


def rows(count: int):
    for n in range(1, count + 1):
        row = {
            "會員編號": f"M{n:06d}",
            "姓名": f"客戶{n}",
            "Email": f"c{n}@example.com",
            "等級": "AB"[n % 2],
            "測量數字": f"{n % 100}.5",
            "就診日": f"2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}",
        }
        if n % 250 == 0:
            column, value = BAD[(n // 250) % len(BAD)]
            row[column] = value
        yield [row[h] for h in HEADER]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    path = sys.argv[2] if len(sys.argv) > 2 else "examples/contacts-10k.csv"
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows(count))
    print(f"wrote {count} rows ({count // 250} of them bad) to {path}")


if __name__ == "__main__":
    main()
