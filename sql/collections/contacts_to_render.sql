-- Everything a letter, message or work-list line needs for the night $night's contacts of the
-- plan (contact_history rows of source plan, status planned or held), amounts and dates from that
-- night's snapshot, already formatted for the contact's locale so rendering does no arithmetic.
-- Grain: one row per contact_id.
-- Personal fields (full_name, address, phone, e-mail) are the holder's latest version landed by
-- $night, with bidirectional-override and control characters removed (they could reorder or
-- hide text in a letter, or inject e-mail headers). They only ever reach letters and work lists.
-- Itemization (US validation notice, Regulation F): the itemization date is the latest snapshot
-- at or before one month before the night (within 45 days), for a younger account its earliest
-- snapshot in the last 45 days (none: the linter holds the notice); charges since = balance now - balance
-- then + payments since, shown as interest, fees and other charges when positive, as credits when
-- negative; so amount then + charges - payments - credits = amount now, exactly.
--
-- Columns:
--   contact_id, letter_id, idempotency_key, snapshot_date, account_id, customer_id, tier, treatment, channel, template, template_version, locale, jurisdiction, queue, priority, status, scheduled_at, cap_count, cap_max, last_conversation: from contact_history
--   recipient_customer_id: the customer whose contact details are used (the account's holder tonight)
--   full_name, postal_address, city, region, postal_code, mobile_phone, email, timezone: the holder's details (cleaned)
--   destination_holders: customers whose latest record has the same mobile phone (sms, phone), e-mail (email) or postal address (letter) as the recipient
--   account_last4: the last 4 characters of the account id (the masked account number)
--   account_id_length: length of the full account id (the linter looks for it unmasked)
--   currency, currency_symbol: ISO code and its symbol (¥, $)
--   past_due_amount, balance, amount_due, not_yet_due: amounts tonight (not_yet_due = balance - past_due_amount)
--   past_due_amount_text, balance_text, amount_due_text, not_yet_due_text: the same, formatted 1,234.56
--   days_past_due: days past due tonight
--   bucket, risk_grade: tonight's
--   letter_date_text: the night, in the locale's date format
--   deadline_text: payment deadline (night + payment_deadline_days)
--   next_due_date_text: the next due date on the snapshot, formatted; null when none
--   itemization_date_text, itemization_amount_text, charges_since_text, payments_since_text, credits_since_text: US itemization (null when no snapshot in range)
--   itemization_amount, charges_since, payments_since, credits_since: the same as numbers
--   validation_end_text: end of the validation period (night + validation_period_days), null outside the US
--   time_barred: no payment and delinquent for at least the jurisdiction's time_barred_after_days
--   reason_codes_zh, reason_codes_en: the account's top reasons from account_reason_codes (joined with ' / '), null when none
with

contacts as (
    select *
    from contact_history
    where snapshot_date = $night and source = 'plan' and status in ('planned', 'held')
),

latest_versions as (
    select
        h.*,
        row_number() over (
            partition by h.customer_id order by h.landing_date desc, h.source_row desc
        ) as version_rank
    from customers_history as h
    where h.landing_date <= $night
),

holders as (
    select * exclude (version_rank) from latest_versions where version_rank = 1
),

phone_holders as (
    select mobile_phone, count(*) as holders
    from holders
    where mobile_phone in (
        select h.mobile_phone from holders as h
        where h.customer_id in (select customer_id from contacts)
    )
    group by mobile_phone
),

email_holders as (
    select lower(email) as email, count(*) as holders
    from holders
    where lower(email) in (
        select lower(h.email) from holders as h
        where h.customer_id in (select customer_id from contacts)
    )
    group by lower(email)
),

address_holders as (
    select postal_address, postal_code, count(*) as holders
    from holders
    where postal_address in (
        select h.postal_address from holders as h
        where h.customer_id in (select customer_id from contacts)
    )
    group by postal_address, postal_code
),

snapshots as (
    select s.*
    from account_snapshots as s
    where s.snapshot_date = $night and s.account_id in (select account_id from contacts)
),

itemization as (
    -- the latest snapshot at or before one month ago (within 45 days); for a younger account,
    -- its earliest snapshot of the last 45 days
    select
        s.account_id,
        arg_max(s.snapshot_date, (s.snapshot_date <= cast($night as date) - interval 1 month,
                                  case when s.snapshot_date <= cast($night as date) - interval 1 month
                                      then epoch(s.snapshot_date) else -epoch(s.snapshot_date) end))
            as itemization_date,
        arg_max(s.balance, (s.snapshot_date <= cast($night as date) - interval 1 month,
                            case when s.snapshot_date <= cast($night as date) - interval 1 month
                                then epoch(s.snapshot_date) else -epoch(s.snapshot_date) end))
            as itemization_amount
    from account_snapshots as s
    where s.account_id in (select account_id from contacts where jurisdiction = 'US')
        and s.snapshot_date < $night
        and s.snapshot_date >= cast($night as date) - interval 45 day
    group by s.account_id
),

payments as (
    select s.account_id, i.itemization_date, sum(s.payment_amount) as payments_since
    from account_snapshots as s
    inner join itemization as i on i.account_id = s.account_id
    where s.snapshot_date > i.itemization_date and s.snapshot_date <= $night
    group by s.account_id, i.itemization_date
),

reasons as (
{%- if has_reasons %}
    select
        account_id,
        string_agg(reason_zh, ' / ' order by rank) as reason_codes_zh,
        string_agg(reason_en, ' / ' order by rank) as reason_codes_en
    from account_reason_codes
    where snapshot_date = $night and account_id in (select account_id from contacts)
    group by account_id
{%- else %}
    select
        cast(null as varchar) as account_id,
        cast(null as varchar) as reason_codes_zh,
        cast(null as varchar) as reason_codes_en
    where false
{%- endif %}
),

joined as (
    select
        c.contact_id,
        c.letter_id,
        c.idempotency_key,
        c.snapshot_date,
        c.account_id,
        c.customer_id,
        c.tier,
        c.treatment,
        c.channel,
        c.template,
        c.template_version,
        c.locale,
        c.jurisdiction,
        c.queue,
        c.priority,
        c.status,
        c.scheduled_at,
        c.cap_count,
        c.cap_max,
        c.last_conversation,
        s.customer_id as recipient_customer_id,
        regexp_replace(h.full_name, '[\x00-\x1f\x7f\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}]', '', 'g')
            as full_name,
        regexp_replace(h.postal_address, '[\x00-\x1f\x7f\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}]', ' ', 'g')
            as postal_address,
        regexp_replace(h.city, '[\x00-\x1f\x7f\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}]', '', 'g')
            as city,
        regexp_replace(h.region, '[\x00-\x1f\x7f\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}]', '', 'g')
            as region,
        regexp_replace(h.postal_code, '[\x00-\x1f\x7f\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}]', '', 'g')
            as postal_code,
        h.mobile_phone,
        regexp_replace(h.email, '[\x00-\x1f\x7f\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}]', '', 'g')
            as email,
        h.timezone,
        case
            when c.channel in ('sms', 'phone') then ph.holders
            when c.channel = 'email' then eh.holders
            when c.channel = 'letter' then ah.holders
            else 1
        end as destination_holders,
        right(c.account_id, 4) as account_last4,
        length(c.account_id) as account_id_length,
        t.currency,
        case t.currency when 'CNY' then '¥' when 'USD' then '$' else t.currency || ' ' end
            as currency_symbol,
        t.past_due_amount,
        t.balance,
        s.amount_due,
        t.balance - t.past_due_amount as not_yet_due,
        t.days_past_due,
        t.bucket,
        t.risk_grade,
        cast($night as date) + $payment_deadline_days as deadline,
        s.next_due_date,
        s.last_payment_date,
        i.itemization_date,
        i.itemization_amount,
        coalesce(p.payments_since, 0) as payments_since,
        t.balance - i.itemization_amount + coalesce(p.payments_since, 0) as net_charges,
        jr.validation_period_days,
        jr.time_barred_after_days,
        r.reason_codes_zh,
        r.reason_codes_en
    from contacts as c
    inner join collection_tiers as t
        on t.snapshot_date = c.snapshot_date and t.account_id = c.account_id
    inner join snapshots as s on s.account_id = c.account_id
    left join holders as h on h.customer_id = c.customer_id
    left join phone_holders as ph on ph.mobile_phone = h.mobile_phone
    left join email_holders as eh on eh.email = lower(h.email)
    left join address_holders as ah
        on ah.postal_address = h.postal_address
        and ah.postal_code is not distinct from h.postal_code
    left join itemization as i on i.account_id = c.account_id
    left join payments as p on p.account_id = c.account_id
    left join jurisdiction_rules as jr on jr.jurisdiction = c.jurisdiction
    left join reasons as r on r.account_id = c.account_id
),

final as (
    select
        * exclude (deadline, next_due_date, last_payment_date, itemization_date, net_charges,
                   validation_period_days, time_barred_after_days),
        format('{:,.2f}', past_due_amount) as past_due_amount_text,
        format('{:,.2f}', balance) as balance_text,
        format('{:,.2f}', amount_due) as amount_due_text,
        format('{:,.2f}', not_yet_due) as not_yet_due_text,
        case when locale = 'zh-CN' then strftime(snapshot_date, '%Y年%-m月%-d日')
            else strftime(snapshot_date, '%B %-d, %Y') end as letter_date_text,
        case when locale = 'zh-CN' then strftime(deadline, '%Y年%-m月%-d日')
            else strftime(deadline, '%B %-d, %Y') end as deadline_text,
        case when locale = 'zh-CN' then strftime(next_due_date, '%Y年%-m月%-d日')
            else strftime(next_due_date, '%B %-d, %Y') end as next_due_date_text,
        case when locale = 'zh-CN' then strftime(itemization_date, '%Y年%-m月%-d日')
            else strftime(itemization_date, '%B %-d, %Y') end as itemization_date_text,
        format('{:,.2f}', itemization_amount) as itemization_amount_text,
        greatest(net_charges, 0) as charges_since,
        format('{:,.2f}', greatest(net_charges, 0)) as charges_since_text,
        format('{:,.2f}', payments_since) as payments_since_text,
        greatest(-net_charges, 0) as credits_since,
        format('{:,.2f}', greatest(-net_charges, 0)) as credits_since_text,
        case
            when validation_period_days is not null then
                case when locale = 'zh-CN'
                    then strftime(snapshot_date + validation_period_days, '%Y年%-m月%-d日')
                    else strftime(snapshot_date + validation_period_days, '%B %-d, %Y') end
        end as validation_end_text,
        coalesce(
            time_barred_after_days is not null
            and days_past_due >= time_barred_after_days
            and (last_payment_date is null
                 or last_payment_date <= snapshot_date - time_barred_after_days),
            false
        ) as time_barred
    from joined
)

select * from final order by channel, template, locale, contact_id
