-- psi_counts_tonight: tonight's rows per PSI bin of each model feature, counted in one pass over
-- account_features (models.monitoring.stability bins the same values in Python; this is what the
-- nightly monitoring reads instead of the whole night as a data frame).
-- The features come from code (models.features): `source` the account_features column, `encoding`
-- numeric (a number or a boolean as 0/1), bucket_rank ($bucket_ranks at the bucket's place in
-- $bucket_names) or one_hot (1 when the column equals $categories[i], null when it is null).
-- Rows of $excluded_buckets are outside the model's population and are not counted.
-- Bins: $edges[i] are feature i's reference edges; a value's bin is the number of edges at or below
-- it (numpy searchsorted, side right), a missing value's bin is len($edges[i]) + 1.
-- Columns: feature (1-based, the template's order; 0 is the row count of the population tonight),
-- bin, rows.
with

tonight as (
    select
        {%- for feature in features %}
        {%- if feature.encoding == "bucket_rank" %}
        cast((cast($bucket_ranks as double[]))[
            list_position(cast($bucket_names as varchar[]), "{{ feature.source }}")
        ] as double) as feature_{{ loop.index }}
        {%- elif feature.encoding == "one_hot" %}
        case
            when "{{ feature.source }}" is null then null
            else cast("{{ feature.source }}" = (cast($categories as varchar[]))[{{ loop.index }}]
                as double)
        end as feature_{{ loop.index }}
        {%- else %}
        try_cast("{{ feature.source }}" as double) as feature_{{ loop.index }}
        {%- endif %}{{ "," if not loop.last }}
        {%- endfor %}
    from account_features
    where
        snapshot_date = cast($night as date)
        and not coalesce(list_contains(cast($excluded_buckets as varchar[]), bucket), false)
),

long as (
    select
        unnest(generate_series(1, {{ features | length }})) as feature,
        unnest([
            {%- for feature in features %}
            feature_{{ loop.index }}{{ "," if not loop.last }}
            {%- endfor %}
        ]) as value
    from tonight
),

binned as (
    select
        feature,
        case
            when value is null or isnan(value)
                then len((cast($edges as double[][]))[feature]) + 1
            else len(list_filter((cast($edges as double[][]))[feature], lambda edge: edge <= value))
        end as bin
    from long
)

select
    0 as feature,
    0 as bin,
    count(*) as rows
from tonight
union all
select
    feature,
    bin,
    count(*) as rows
from binned
group by feature, bin
