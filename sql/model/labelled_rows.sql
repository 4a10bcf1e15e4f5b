{#- The labelled rows of label_keys (create_label_keys.sql): not in an excluded bucket, present at
the label date, label date on or before $as_of; with the roll-forward label. Included by
labels.sql and label_sample_rates.sql. #}
labelled as (
    select
        label_keys.snapshot_date,
        label_keys.account_id,
        label_keys.bucket,
        label_keys.label_date,
        label_keys.label_snapshot_date,
        label_keys.bucket_later,
        label_keys.night_weight,
        label_keys.all_buckets,
        label_keys.draw_bits,
        cast(bucket_rank(label_keys.bucket_later) > bucket_rank(label_keys.bucket) as integer)
            as label
    from label_keys
    where
        not label_keys.excluded
        and label_keys.label_snapshot_date is not null
        and label_keys.label_date <= cast($as_of as date)
),
