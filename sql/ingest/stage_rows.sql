-- Stage one landed file: trim every value (blank -> null) and parse each typed column.
-- A value that does not match its type's pattern, or does not parse (2026-02-30), parses to null
-- in <column>__value; the `type` rule then flags it, so no bad value is ever loaded as null.
create or replace temp table staged as
with

landed_rows as (
    select * from landed
),

trimmed as (
    select
        __row_number,
        {%- for column in columns %}
        {% if column.present %}nullif(trim("{{ column.name }}"), ''){% else %}cast(null as varchar){% endif %} as {{ column.name }},
        {%- endfor %}
        {%- for extra in extras %}
        "{{ extra.ident }}" as "{{ extra.ident }}",
        {%- endfor %}
    from landed_rows
),

final as (
    select
        *,
        {%- for column in typed_columns %}
        case
            when regexp_full_match({{ column.name }}, ${{ column.pattern_param }})
                then try_cast({{ column.name }} as {{ column.duckdb_type }})
        end as {{ column.name }}__value,
        {%- endfor %}
    from trimmed
)

select * from final
