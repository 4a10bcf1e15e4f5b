-- model_monitoring: the champion's stability and performance, night by night (DOMAIN.md §3, §6).
-- Grain: one row per (snapshot_date, model_version, measure, subject).
-- Columns:
--   snapshot_date: the night monitored
--   model_version: the champion that night
--   measure: psi (population stability vs the training window), auc, gini, ks, brier, rows, observed_rate, mean_predicted, auc_in_bucket (AUC among one bucket's rows), ks_in_bucket (KS among them), positives and negatives (rows rolled forward or not, per bucket and for 'matured'), accounts, positive_accounts, negative_accounts (distinct accounts of a bucket's rows, all and with a row rolled forward or not: the evidence its AUC rests on, delinquent accounts being observed nightly); auc_in_bucket's status is alert when it is below the card's AUC for the bucket by more than models.registry.bucket_auc_allowance, judged only with bucket_auc_min_rows accounts and bucket_auc_min_class_rows of each class
--   subject: what was measured: 'score', a feature name (psi); 'matured' (the monitoring window: the latest matured nights after the model's validation window, so neither trained nor early-stopped on; all rows); a bucket M0..M6 (mean_predicted, observed_rate, rows, auc_in_bucket per bucket on that window). Every performance row of a night is from that night's one window
--   value: the figure; null when there is none (psi no_data, an AUC of a bucket with one class)
--   status: psi: stable (< 0.1), watch (0.1-0.25), act (> 0.25), no_data (the training window or tonight has no value of the feature: empty, null on every row, or its look-back reaching before the book's first snapshot); performance: ok, or alert when AUC (overall, or in a bucket: auc_in_bucket) fell by more than the gate's margin below the model card's validation AUC, or a bucket's predicted roll rate is off the observed by more than the gate's calibration allowance; null otherwise
--   window_first_night: first observation night of the monitoring window (performance rows), else null
--   window_last_night: last observation night of the monitoring window (performance rows), else null
create table if not exists model_monitoring (
    snapshot_date date not null,
    model_version varchar not null,
    measure varchar not null,
    subject varchar not null,
    value double,
    status varchar,
    window_first_night date,
    window_last_night date
)
