"""The ticket search on SQLite uses LIKE without UPPER(): it must match exactly the same."""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st

# Letters whose case folds differently in ASCII and in Unicode (accented e, sharp s, dotted
# and dotless i, o umlaut), and LIKE's wildcards.
LETTERS = "aAzZ\u00e9\u00c9\u00df\u1e9e\u0131I\u0130i\u00f6\u00d6%_\\ x"
TEXT = st.text(alphabet=st.sampled_from(LETTERS), max_size=12)


def escape_like(needle: str) -> str:
    return needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@given(TEXT, TEXT)
def test_like_ignores_case_exactly_as_far_as_upper_does(text, needle):
    pattern = f"%{escape_like(needle)}%"
    with sqlite3.connect(":memory:") as connection:
        plain, upper = connection.execute(
            "SELECT ? LIKE ? ESCAPE '\\', UPPER(?) LIKE UPPER(?) ESCAPE '\\'",
            (text, pattern, text, pattern),
        ).fetchone()
    assert plain == upper
