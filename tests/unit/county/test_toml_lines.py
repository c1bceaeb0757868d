"""`toml_line`: the line a county.toml problem points at, found by following the tables."""

from __future__ import annotations

from services.county.toml_lines import toml_line

TEXT = """id = "essex"
# identity = "a comment, not a key"

[reference]
etr = "reference/etr.csv"

[[sign_in.rule]]
claim = "groups"

[[sign_in.rule]]
"claim" = "roles"
areas = ["a", "b"]
"""


def test_a_key_is_found_at_its_own_line_under_its_table_and_array_entry() -> None:
    assert toml_line(TEXT, ("id",)) == 1
    assert toml_line(TEXT, ("reference", "etr")) == 5
    assert toml_line(TEXT, ("sign_in", "rule", 0, "claim")) == 8
    assert toml_line(TEXT, ("sign_in", "rule", 1, "claim")) == 11  # a quoted key too


def test_a_path_without_a_line_of_its_own_falls_back_to_the_deepest_table_holding_it() -> None:
    assert toml_line(TEXT, ("sign_in", "rule", 0, "value")) == 7  # missing: at the rule's header
    assert toml_line(TEXT, ("sign_in", "rule", 1, "areas", 1)) == 12  # a list item: at its key
    assert toml_line(TEXT, ("identity",)) is None  # commented out, and no table holds it
