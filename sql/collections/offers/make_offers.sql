-- Tonight's offers: accounts whose treatment makes an offer (offer_treatments), with a tier and
-- no suppression, eligible by the strategy's offer rules (bucket, balance per currency, an
-- approval level for the balance), without an open offer of any type and without one of the
-- type broken, declined, expired or completed within its cooldown. Money in decimals: plan instalments are
-- the balance over the count cut down to the cent, the last absorbing the rest; a settlement is
-- balance x (1 - waived) rounded half-up to the cent. A rerun of the night adds nothing (offer_id is stable).
insert into offers
select
    'OF' || upper(substr(md5(t.account_id || '|' || ot.type || '|' || cast(t.snapshot_date as varchar)), 1, 16))
        as offer_id,
    t.account_id,
    t.customer_id,
    t.currency,
    ot.type,
    t.balance as balance_at_offer,
    r.instalments,
    case when ot.type = 'settlement'
        then round(t.balance * (1 - cast(r.waived_share as decimal(5, 4))), 2)
        else cast(floor(t.balance * 100 / r.instalments) / 100 as decimal(18, 2)) end
        as instalment_amount,
    case when ot.type = 'settlement'
        then round(t.balance * (1 - cast(r.waived_share as decimal(5, 4))), 2)
        else t.balance - (r.instalments - 1)
            * cast(floor(t.balance * 100 / r.instalments) / 100 as decimal(18, 2)) end
        as last_instalment_amount,
    cast(r.waived_share as decimal(5, 4)) as waived_share,
    case when ot.type = 'settlement'
        then round(t.balance * (1 - cast(r.waived_share as decimal(5, 4))), 2) end
        as settlement_amount,
    coalesce(r.approval_level, (
        select arg_min(l.level, l.level_order)
        from offer_approval_levels as l
        where l.currency = t.currency and t.balance <= cast(l.max_balance as decimal(18, 2))
    )) as approval_level,
    t.snapshot_date as offered_night,
    t.snapshot_date + r.validity_days as valid_until,
    'offered' as status,
    cast(null as date) as decided_night,
    cast(null as date) as accepted_on,
    cast(null as varchar) as outcome_id,
    cast(null as date) as closed_night,
    t.treatment,
    t.tier,
    cast($strategy_version as varchar) as strategy_version
from collection_tiers as t
inner join offer_treatments as ot on ot.treatment = t.treatment
inner join offer_rules as r on r.type = ot.type and r.currency = t.currency
where t.snapshot_date = cast($night as date)
    and t.tier is not null
    and t.suppression_reasons is null
    and list_contains(r.buckets, t.bucket)
    and t.balance >= cast(r.min_balance as decimal(18, 2))
    and (r.max_balance is null or t.balance <= cast(r.max_balance as decimal(18, 2)))
    and (r.approval_level is not null or exists (
        select 1 from offer_approval_levels as l
        where l.currency = t.currency and t.balance <= cast(l.max_balance as decimal(18, 2))
    ))
    and not exists (
        select 1 from offers as o
        where o.account_id = t.account_id
            and (o.status in ('offered', 'accepted', 'active', 'kept')
                 or (o.type = ot.type and o.status in ('broken', 'declined', 'expired', 'completed')
                     and coalesce(o.closed_night, o.decided_night)
                         > t.snapshot_date - r.cooldown_days))
    )
    and not exists (
        select 1 from offers as o
        where o.offer_id = 'OF' || upper(substr(md5(t.account_id || '|' || ot.type || '|'
                                                    || cast(t.snapshot_date as varchar)), 1, 16))
    )
