-- Load every staged row that broke no rule into the feed's table, typed, with its lineage, in
-- the contract's clusterBy order (row groups then hold narrow ranges of it). A contract with
-- skipKeysLoadedEarlier skips the rows whose key another night already loaded. A feed routed by
-- customer stores each row's shard of $shards.
insert into {{ table }} (
    {%- if not file_date_column %}landing_date, {% endif %}
    {%- for column in columns %}{{ column.name }}, {% endfor -%}
    extra_columns, source_file, source_row{% if shard_by %}, shard{% endif %}
)
with

clean as (
    select * from staged
    where __row_number not in (select __row_number from violations)
    {%- if skip_key %}
        and {{ skip_key }} not in (
            select {{ skip_key }} from {{ table }} where {{ partition_column }} <> $file_date)
    {%- endif %}
),

final as (
    select
        {%- if not file_date_column %}
        $file_date as landing_date,
        {%- endif %}
        {%- for column in columns %}
        {% if column.logical_type == 'string' %}{{ column.name }}{% else %}{{ column.name }}__value{% endif %} as {{ column.name }},
        {%- endfor %}
        {% if extras -%}
        json_object(
            {%- for extra in extras %}
            ${{ extra.param }}, "{{ extra.ident }}"{% if not loop.last %},{% endif %}
            {%- endfor %}
        )
        {%- else -%}
        cast(null as json)
        {%- endif %} as extra_columns,
        $source_file as source_file,
        __row_number as source_row
        {%- if shard_by %},
        shard_of({{ shard_by }}, $shards) as shard
        {%- endif %}
    from clean
)

select * from final
{%- if cluster_by %}
order by {% for column in cluster_by %}{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
{%- endif %}
