-- Every (row, rule) pair where a staged row breaks a contract rule, with the offending value.
-- Compiled from the same rule list as the great-expectations suite; a test proves both flag
-- exactly the same rows. Nulls pass every rule but `required` (as in great-expectations), and
-- `parts_sum_to` (the parts all null or all given and summing to the total) and `required_when`.
-- `known_in` reads the temp table of keys staged for it (reference_<rule index>).
{%- macro value(column) -%}
{%- if column.logical_type == 'string' -%}{{ column.name }}{%- else -%}{{ column.name }}__value{%- endif -%}
{%- endmacro %}
create or replace temp table violations as
with

flagged as (
    select
        __row_number,
        list_filter([
            {%- for rule in rules %}
            case when (
                {%- if rule.kind == 'required' %}
                {{ rule.column }} is null
                {%- elif rule.kind == 'type' %}
                {{ rule.column }} is not null and {{ rule.column }}__value is null
                {%- elif rule.kind == 'unique' %}
                {{ rule.column }} is not null and count(*) over (partition by {{ rule.column }}) > 1
                {%- elif rule.kind == 'valid_values' %}
                not list_contains(${{ rule.param }}, {{ rule.column }})
                {%- elif rule.kind == 'pattern' %}
                not regexp_matches({{ rule.column }}, ${{ rule.param }})
                {%- elif rule.kind == 'max_length' %}
                length({{ rule.column }}) > ${{ rule.param }}
                {%- elif rule.kind == 'minimum' %}
                {{ rule.value }} < ${{ rule.param }}
                {%- elif rule.kind == 'maximum' %}
                {{ rule.value }} > ${{ rule.param }}
                {%- elif rule.kind == 'equals_file_date' %}
                {{ rule.value }} <> ${{ rule.param }}
                {%- elif rule.kind == 'not_after_file_date' %}
                {{ rule.value }} > ${{ rule.param }}
                {%- elif rule.kind == 'column_not_above' %}
                {{ rule.value }} > {{ rule.other_value }}
                {%- elif rule.kind == 'conditional_minimum' %}
                {{ rule.when_predicate }} and {{ rule.value }} < ${{ rule.param }}
                {%- elif rule.kind == 'conditional_maximum' %}
                {{ rule.when_predicate }} and {{ rule.value }} > ${{ rule.param }}
                {%- elif rule.kind == 'parts_sum_to' %}
                {{ rule.value }} is not null
                and ({% for part in rule.part_values %}{{ part }} is not null{% if not loop.last %} or {% endif %}{% endfor %})
                and ({% for part in rule.part_values %}{{ part }} is null or {% endfor -%}
                {% for part in rule.part_values %}{{ part }}{% if not loop.last %} + {% endif %}{% endfor %} <> {{ rule.value }})
                {%- elif rule.kind == 'required_when' %}
                {{ rule.column }} is null and {{ rule.when_predicate }}
                {%- elif rule.kind == 'not_before_day_of' %}
                {{ rule.value }} < case when {{ rule.other }}__value is not null
                    then cast(left({{ rule.other }}, 10) as date) end
                {%- elif rule.kind == 'known_in' %}
                {{ rule.column }} is not null
                and {{ rule.column }} not in (select key from {{ rule.reference }})
                {%- elif rule.kind == 'null_unless' %}
                {{ rule.value }} is not null and {{ rule.when_value }} is not null
                and not ({{ rule.when_predicate }})
                {%- endif %}
            ) then {{ rule.index }} end,
            {%- endfor %}
        ], lambda rule_index: rule_index is not null) as rule_indexes,
        {%- for column in columns %}
        {{ column.name }},
        {%- endfor %}
    from staged
),

broken as (
    select __row_number, unnest(rule_indexes) as rule_index, * exclude (__row_number, rule_indexes)
    from flagged
    where len(rule_indexes) > 0
),

final as (
    select
        __row_number,
        rule_index,
        case rule_index
            {%- for rule in rules %}
            when {{ rule.index }} then cast({{ rule.column }} as varchar)
            {%- endfor %}
        end as value
    from broken
)

select * from final
