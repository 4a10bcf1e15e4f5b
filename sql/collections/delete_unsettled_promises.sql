-- Before the ledger is built for $as_of: every promise not settled goes, to be decided again from
-- the feeds and snapshots. Settled: kept, broken or superseded more than 45 nights before $as_of,
-- or unverifiable with its date more than 90 nights before (the ledger reads snapshots up to 45
-- days after a promise's date, so nothing can decide it any more); everything that decided it
-- had landed by then (a feed file corrected that late does not reopen it), so the nightly build
-- reads only the snapshots of recent promises.
delete from promises
where not (
    (status in ('kept', 'broken', 'superseded')
     and resolved_night < cast($as_of as date) - 45)
    or (status = 'unverifiable'
        and coalesce(due_by, promised_night) < cast($as_of as date) - 90)
)
