"""Parameters bound to a statement: only those it uses, and a comment naming one is no use."""

import duckdb

from pipelines.lib.sql import bind


def test_a_parameter_named_only_in_a_comment_is_not_bound():
    sql = "-- reads $as_of and $seed\nselect cast($as_of as date) as night -- not $seed\n"
    params = bind(sql, {"as_of": "2026-05-20", "seed": 7, "unused": 1})
    assert params == {"as_of": "2026-05-20"}
    assert duckdb.connect().execute(sql, params).fetchone()[0].isoformat() == "2026-05-20"
