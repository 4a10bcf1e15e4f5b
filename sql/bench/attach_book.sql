-- The one warehouse of tooling/bench/shards.py, read only, as `book`.
attach '{{ path }}' as book (read_only)
