-- Rows and nights of one nightly table, for `overdue summary`.
select
    count(distinct {{ night_column }}) as nights,
    min({{ night_column }}) as first_night,
    max({{ night_column }}) as last_night,
    count(*) as row_count
from {{ table }}
