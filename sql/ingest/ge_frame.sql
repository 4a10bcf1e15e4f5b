-- The staged file as great-expectations reads it: the row number, every contract column's
-- trimmed text and its typed value (amounts and integers as double, which pandas compares
-- vectorised) with whether its text was given, and the exact cents of the amounts a sum rule adds up (the total's negated).
select
    __row_number as row_number,
    {%- for column in columns %}
    {{ column.name }},
    {%- if column.logical_type in ('number', 'integer') %}
    cast({{ column.name }}__value as double) as {{ column.name }}__value,
    {%- elif column.logical_type != 'string' %}
    {{ column.name }}__value,
    {%- endif %}
    {%- if column.logical_type != 'string' %}
    {{ column.name }} is not null as {{ column.name }}__given,
    {%- endif %}
    {%- endfor %}
    {%- for amount in cents %}
    cast({{ amount.name }}__value * {{ amount.factor }} as bigint) as {{ amount.alias }},
    {%- endfor %}
    {%- for other in days %}
    case when {{ other }}__value is not null then cast(left({{ other }}, 10) as date) end
        as {{ other }}__day,
    {%- endfor %}
from staged
