"""The bad-input table (accel_tb.cli.badinput.CASES): every row run as the user types it, and the table in
docs/bad_input.md is that list, row for row. A row passes when the command exits as listed, its first line
about the outcome says what the row says, it printed no traceback, and (for the rows that do not simulate)
nothing was built; every row leaves its temporary folder (TMPDIR) empty."""
from __future__ import annotations

import pytest

from accel_tb.cli.badinput import CASES, DOC, doc_table, run_case, table_in, write_doc_table


@pytest.mark.parametrize("case", CASES, ids=[f"{n:02d}-{c.what[:40]}" for n, c in enumerate(CASES)])
def test_bad_input_row(case, tmp_path):
    code, line, problems = run_case(case, tmp_path)
    assert not problems, f"{case.shown}: exit {code}, first line {line!r}: {'; '.join(problems)}"


def test_doc_table_is_the_list():
    lines = DOC.read_text().splitlines()
    start, end = table_in(lines)
    assert lines[start:end] == doc_table(), \
        "docs/bad_input.md's table differs from accel_tb.cli.badinput.CASES: python -m accel_tb.cli.badinput --write"


def test_write_puts_the_list_in_place_of_a_stale_table(tmp_path):
    """--write replaces the table (a row dropped, one added) and leaves the text around it."""
    lines = DOC.read_text().splitlines()
    start, end = table_in(lines)
    stale = lines[:start] + doc_table()[:5] + ["| a row the list lacks | `x` | 2 | `y` |"] + lines[end:]
    page = tmp_path / "bad_input.md"
    page.write_text("\n".join(stale) + "\n")
    write_doc_table(page)
    assert page.read_text().splitlines() == lines


def test_a_row_that_does_not_hold_is_reported(tmp_path):
    """The table's checker can fail: a row expecting the wrong status or phrase is reported as differing."""
    import dataclasses
    row = next(c for c in CASES if c.command == "make ROWS=0")
    code, line, problems = run_case(dataclasses.replace(row, exit=1, says="no such words"), tmp_path)
    assert code == 2 and problems == ["exit 2, expected 1", "first line does not say 'no such words'"]
