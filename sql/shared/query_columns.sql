-- The columns and types a nightly table's query returns (no rows are computed).
describe select * from (
{{ query }}
) limit 0
