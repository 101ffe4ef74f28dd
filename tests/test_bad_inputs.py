"""The bad-input table (accel_tb.badinput.CASES): every row run as the user types it, and the README's table
is that list, row for row. A row passes when the command exits as listed, its first line about the outcome
says what the row says, it printed no traceback, and (for the rows that do not simulate) nothing was built."""
from __future__ import annotations

import pytest

from accel_tb.badinput import CASES, readme_table, run_case
from accel_tb.runner import ROOT


@pytest.mark.parametrize("case", CASES, ids=[f"{n:02d}-{c.what[:40]}" for n, c in enumerate(CASES)])
def test_bad_input_row(case, tmp_path):
    code, line, problems = run_case(case, tmp_path)
    assert not problems, f"{case.shown}: exit {code}, first line {line!r}: {'; '.join(problems)}"


def test_readme_table_is_the_list():
    readme = (ROOT / "README.md").read_text().splitlines()
    table = readme_table()
    start = readme.index(table[0])
    assert readme[start:start + len(table)] == table, "README's bad-input table differs: python -m accel_tb.badinput --readme"
    assert not readme[start + len(table)].startswith("|"), "README's bad-input table has rows the list lacks"


def test_a_row_that_does_not_hold_is_reported(tmp_path):
    """The table's checker can fail: a row expecting the wrong status or phrase is reported as differing."""
    import dataclasses
    row = next(c for c in CASES if c.command == "make ROWS=0")
    code, line, problems = run_case(dataclasses.replace(row, exit=1, says="no such words"), tmp_path)
    assert code == 2 and problems == ["exit 2, expected 1", "first line does not say 'no such words'"]
