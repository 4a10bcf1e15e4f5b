-- labels: the model's training rows, DOMAIN.md §3: account_features on the observation nights of
-- label_keys (create_label_keys.sql, which says how the label date and the bucket then are read)
-- with the roll-forward label. Nights whose label date is after $as_of have no label and are left
-- out; so are excluded buckets and accounts absent at the label date (counted by
-- label_coverage.sql).
-- Sampling, stratified by bucket: every delinquent row is kept; current (M0) rows are kept at the
-- rate that makes them about the configured share of the rows (all of them when they already
-- are), chosen by md5 of (account, night, seed) (observation_labels.draw_bits) so the choice does
-- not depend on row order or on other rows. Then, when more than the row cap would be kept, every
-- row is kept at one further rate, cap_rate, with the same draw (a current row kept at the cap
-- was kept without it), so the training set's size is bounded whatever the book's size or
-- history. $current_threshold and $delinquent_threshold are those rates times 2^32, compared with
-- the draw's 32 bits.
-- The two rates come from label_sample_rates.sql ($current_keep_rate, $cap_rate). The kept rows'
-- account_features rows are found by the same draw, computed in the scan of account_features
-- (md5 of the same key), so no hash table ever holds the wide rows of every observed account
-- (the 360-day, 1M-account book's 34M rows spilled at the night's 3 GB cap).
-- weight = night_weight / keep rate, so weighted means stay the book's: a current row stands for
-- the nights between its observation nights (create_label_keys.sql), and the share is of the
-- rows on the nights observed for every bucket. $first_night..$last_night bound the observation
-- nights.
-- Rows in no order: the caller sorts them by night and account (a sort here held a second copy
-- of the wide rows inside DuckDB while they were fetched).
-- Columns: every account_features column, then
--   label_date: months_later(snapshot_date, horizon_months)
--   label_snapshot_date: the snapshot the label was read from (label_date or up to 3 days before)
--   bucket_later: the account's bucket on label_snapshot_date
--   label: 1 when bucket_rank(bucket_later) > bucket_rank(bucket) (worse; write-off counts), else 0
--   weight: night_weight / (the keep rate of the row's stratum x cap_rate)
with

{% include 'model/labelled_rows.sql' %}
kept as (
    -- draw_bits / 2^32 is the row's uniform draw in [0, 1): a stratum kept at rate 1 keeps
    -- every row
    select
        labelled.* exclude (draw_bits),
        labelled.night_weight
        / (case when labelled.bucket = 'M0' then cast($current_keep_rate as double) else 1.0 end
            * cast($cap_rate as double)) as weight
    from labelled
    where
        cast(labelled.draw_bits as double)
        < case
            when labelled.bucket = 'M0' then cast($current_threshold as double)
            else cast($delinquent_threshold as double)
        end
),

sampled_features as (
    -- the same draw, on account_features' own key: only the rows it keeps are read whole
    select account_features.*
    from account_features
    where
        account_features.snapshot_date
        between cast($first_night as date) and cast($last_night as date)
        and cast(
            md5_number(
                account_features.account_id || '|' || cast(account_features.snapshot_date as varchar)
                || '|' || cast($seed as varchar)
            ) >> 96 as double
        )
        < case
            when account_features.bucket = 'M0' then cast($current_threshold as double)
            else cast($delinquent_threshold as double)
        end
),

final as (
    select
        sampled_features.*,
        kept.label_date,
        kept.label_snapshot_date,
        kept.bucket_later,
        kept.label,
        kept.weight
    from kept
    inner join sampled_features
        on
            kept.snapshot_date = sampled_features.snapshot_date
            and kept.account_id = sampled_features.account_id
)

select * from final
