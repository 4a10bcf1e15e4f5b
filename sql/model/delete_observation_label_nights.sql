-- The night records of the labels delete_observation_labels.sql drops.
delete from observation_label_nights
where
    list_contains(cast($nights as date[]), snapshot_date)
    or snapshot_date < cast($keep_from as date)
