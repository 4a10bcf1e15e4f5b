-- agency_placements holds no contradiction: at most one placement of an account is active (or
-- overlaps another), an active one has no end and an ended one has its night and reason, a
-- rotation moves to another agency, and nothing is placed in a bucket the strategy does not
-- place ($buckets, checked against account_features on the placement night).
-- Threshold: no rows returned.
select 'two_active' as problem, account_id, count(*) as placements
from agency_placements
where status = 'active'
group by account_id
having count(*) > 1
union all
select 'active_with_end', account_id, 1
from agency_placements
where status = 'active' and (recalled_night is not null or recall_reason is not null)
union all
select 'ended_without_night_or_reason', account_id, 1
from agency_placements
where status <> 'active' and (recalled_night is null or recall_reason is null)
union all
select 'rotated_to_the_same_agency', a.account_id, 1
from agency_placements as a
inner join agency_placements as b
    on b.account_id = a.account_id and b.placed_night = a.recalled_night
where a.status = 'rotated' and b.agency_id = a.agency_id
union all
select 'placed_outside_the_placed_buckets', p.account_id, 1
from agency_placements as p
inner join account_features as f
    on f.account_id = p.account_id and f.snapshot_date = p.placed_night
where not list_contains($buckets, f.bucket)
