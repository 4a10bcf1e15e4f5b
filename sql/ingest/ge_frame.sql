-- The staged file as great-expectations reads it: the row number, the trimmed text it reads,
-- a typed column's value (amounts and integers as double, which pandas compares vectorised) and
-- whether its text was given, the exact cents of the amounts a sum rule adds up (the total's
-- negated), and the day of a timestamp a rule compares a date with.
select
    __row_number as row_number,
    {%- for column in columns %}
    {%- if column.name in texts %}
    {{ column.name }},
    {%- endif %}
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
