-- Everything a letter, message or work-list line needs for the night $night's contacts of the
-- plan (contact_history rows of source plan, status planned or held, or released and sent; not
-- the released letters replaced by a correction or no longer due), amounts and dates from that
-- night's snapshot, already formatted for the contact's locale so rendering does no arithmetic.
-- Grain: one row per contact_id.
-- Personal fields (full_name, address, phone, e-mail) are the holder's latest version landed by
-- $night, with bidirectional-override and control characters removed (they could reorder or
-- hide text in a letter, or inject e-mail headers). They only ever reach letters and work lists.
-- Money on the day it arrives: a contact is read on its delivery day (delivery_dates: the send day,
-- the night + 1, plus the channel's lag), so the amount to pay is tonight's past due plus the
-- instalment the snapshot shows falling due by then (next_due_date <= delivery_date, amount_due),
-- and the deadline counts from delivery. not_yet_due = balance - amount_to_pay.
-- Itemization (US validation notice, Regulation F 1006.34(b)(3)): the itemization date is one of
-- the rule's reference dates, the first the feed has: the last statement date (amount: the
-- statement balance, else that day's snapshot balance), the charge-off date, the last payment
-- date (amount: that day's snapshot balance); none, or no amount: the linter holds the notice.
-- Charges since = balance now - balance then + payments since, shown as interest, fees and other
-- charges when positive, as credits when negative; so then + charges - payments - credits = now.
--
-- Columns:
--   contact_id, letter_id, idempotency_key, snapshot_date, account_id, customer_id, tier, treatment, channel, template, template_version, locale, jurisdiction, queue, priority, status, scheduled_at, cap_count, cap_max, last_conversation: from contact_history
--   batch_written, content_sha256, corrects_letter_id: from contact_history (a released contact is re-rendered only to compare its sha256)
--   recipient_customer_id: the customer whose contact details are used (the account's holder tonight)
--   full_name, postal_address, city, region, postal_code, mobile_phone, email, timezone: the holder's details (cleaned)
--   destination_holders: customers whose latest record has the same mobile phone (sms, phone), e-mail (email) or postal address (letter) as the recipient
--   account_last4: the last 4 characters of the account id (the masked account number)
--   account_id_length: length of the full account id (the linter looks for it unmasked)
--   currency, currency_symbol: ISO code and its symbol (¥, $)
--   past_due_amount, balance, amount_due: amounts tonight
--   send_date, delivery_date: the contact's send day and expected delivery day (delivery_date_text formatted)
--   instalment_due_date, instalment_amount: the instalment falling due by delivery (the snapshot's next_due_date and amount_due), null when none; instalment_due_date_text, instalment_amount_text
--   amount_to_pay: past_due_amount + instalment_amount, what brings the account current on delivery
--   not_yet_due: balance - amount_to_pay
--   past_due_amount_text, balance_text, amount_due_text, amount_to_pay_text, not_yet_due_text: the amounts, formatted 1,234.56
--   past_due_principal, past_due_interest, past_due_penalty_interest, past_due_fees: the snapshot's breakdown of past_due_amount (landing format 1.1), null when not sent; *_text formatted
--   breakdown_available: all four parts present
--   annual_interest_rate_text, penalty_interest_rate_text: the snapshot's annual rates as 18.00%, null when not sent
--   contract_reference, contract_date_text: the agreement, null when not sent
--   contract_text: the agreement as a letter names it (its number, else the masked account)
--   product_text: the product as the locale names it (revolving credit account, installment loan, ...)
--   days_past_due: days past due tonight; days_past_due_text: "逾期N天" / "N days past due" (1 day)
--   bucket, risk_grade: tonight's
--   letter_date_text: the night, in the locale's date format
--   deadline, deadline_text: payment deadline (delivery_date + payment_deadline_days)
--   next_due_date, next_due_date_text: the next due date on the snapshot; null when none
--   itemization_date_text, itemization_amount_text, charges_since_text, payments_since_text, credits_since_text: US itemization (null when the feed has no reference date)
--   itemization_basis: last_statement, charge_off or last_payment
--   itemization_amount, charges_since, payments_since, credits_since: the same as numbers
--   validation_end_text: end of the validation period (delivery_date + validation_period_days), null outside the US
--   time_barred: no payment and delinquent for at least the jurisdiction's time_barred_after_days
--   reason_codes_zh, reason_codes_en: the account's top reasons from account_reason_codes (joined with ' / '), null when none
with

contacts as (
    select *
    from contact_history
    where snapshot_date = $night
        and source = 'plan'
        and (status in ('planned', 'held') or (batch_written and status in ('sent', 'delivered')))
        and superseded_by is null
        and correction_note is null
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
    -- the first Regulation F reference date the feed has, and the amount owed that day
    select
        s.account_id,
        coalesce(s.statement_date, s.charge_off_date, s.last_payment_date) as itemization_date,
        case
            when s.statement_date is not null then 'last_statement'
            when s.charge_off_date is not null then 'charge_off'
            when s.last_payment_date is not null then 'last_payment'
        end as itemization_basis,
        case
            when s.statement_date is not null then coalesce(s.statement_balance, then_s.balance)
            else then_s.balance
        end as itemization_amount
    from snapshots as s
    left join account_snapshots as then_s
        on then_s.account_id = s.account_id
        and then_s.snapshot_date = coalesce(s.statement_date, s.charge_off_date, s.last_payment_date)
    where s.account_id in (select account_id from contacts where jurisdiction = 'US')
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
        c.batch_written,
        c.content_sha256,
        c.corrects_letter_id,
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
        d.send_date,
        d.delivery_date,
        coalesce(s.next_due_date <= d.delivery_date and s.amount_due > 0, false)
            as instalment_falls_due,
        case when instalment_falls_due then s.next_due_date end as instalment_due_date,
        case when instalment_falls_due then s.amount_due end as instalment_amount,
        t.past_due_amount + coalesce(instalment_amount, 0) as amount_to_pay,
        t.balance - amount_to_pay as not_yet_due,
        s.past_due_principal,
        s.past_due_interest,
        s.past_due_penalty_interest,
        s.past_due_fees,
        try_cast(s.annual_interest_rate as decimal(9, 6)) as annual_interest_rate,
        try_cast(s.penalty_interest_rate as decimal(9, 6)) as penalty_interest_rate,
        nullif(trim(s.contract_reference), '') as contract_reference,
        s.contract_date,
        s.product,
        t.days_past_due,
        t.bucket,
        t.risk_grade,
        coalesce(d.delivery_date, cast($night as date) + 1) + $payment_deadline_days as deadline,
        s.next_due_date,
        s.last_payment_date,
        i.itemization_date,
        i.itemization_basis,
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
    left join delivery_dates as d on d.jurisdiction = c.jurisdiction and d.channel = c.channel
),

final as (
    select
        * exclude (last_payment_date, itemization_date, net_charges, instalment_falls_due,
                   validation_period_days, time_barred_after_days, contract_date,
                   annual_interest_rate, penalty_interest_rate, product),
        format('{:,.2f}', past_due_amount) as past_due_amount_text,
        format('{:,.2f}', balance) as balance_text,
        format('{:,.2f}', amount_due) as amount_due_text,
        format('{:,.2f}', amount_to_pay) as amount_to_pay_text,
        format('{:,.2f}', not_yet_due) as not_yet_due_text,
        format('{:,.2f}', instalment_amount) as instalment_amount_text,
        format('{:,.2f}', past_due_principal) as past_due_principal_text,
        format('{:,.2f}', past_due_interest) as past_due_interest_text,
        format('{:,.2f}', past_due_penalty_interest) as past_due_penalty_interest_text,
        format('{:,.2f}', past_due_fees) as past_due_fees_text,
        coalesce(past_due_principal is not null and past_due_interest is not null
                 and past_due_penalty_interest is not null and past_due_fees is not null, false)
            as breakdown_available,
        format('{:.2f}%', annual_interest_rate * 100) as annual_interest_rate_text,
        format('{:.2f}%', penalty_interest_rate * 100) as penalty_interest_rate_text,
        case
            when contract_reference is not null and locale = 'zh-CN'
                then '合同编号' || contract_reference
            when contract_reference is not null then 'agreement no. ' || contract_reference
            when locale = 'zh-CN' then '尾号' || account_last4 || '账户的借款合同'
            else 'the agreement for the account ending ' || account_last4
        end as contract_text,
        case
            when locale = 'zh-CN' then case lower(product)
                when 'revolving' then '循环额度账户' when 'installment' then '分期贷款'
                when 'credit_card' then '信用卡账户' when 'card' then '信用卡账户'
                else product || '账户' end
            else case lower(product)
                when 'revolving' then 'revolving credit account'
                when 'installment' then 'installment loan'
                when 'credit_card' then 'credit card account' when 'card' then 'credit card account'
                else product || ' account' end
        end as product_text,
        case
            when locale = 'zh-CN' then '逾期' || days_past_due || '天'
            when days_past_due = 1 then '1 day past due'
            else days_past_due || ' days past due'
        end as days_past_due_text,
        case when locale = 'zh-CN' then strftime(snapshot_date, '%Y年%-m月%-d日')
            else strftime(snapshot_date, '%B %-d, %Y') end as letter_date_text,
        case when locale = 'zh-CN' then strftime(delivery_date, '%Y年%-m月%-d日')
            else strftime(delivery_date, '%B %-d, %Y') end as delivery_date_text,
        case when locale = 'zh-CN' then strftime(deadline, '%Y年%-m月%-d日')
            else strftime(deadline, '%B %-d, %Y') end as deadline_text,
        case when locale = 'zh-CN' then strftime(next_due_date, '%Y年%-m月%-d日')
            else strftime(next_due_date, '%B %-d, %Y') end as next_due_date_text,
        case when locale = 'zh-CN' then strftime(instalment_due_date, '%Y年%-m月%-d日')
            else strftime(instalment_due_date, '%B %-d, %Y') end as instalment_due_date_text,
        case when locale = 'zh-CN' then strftime(contract_date, '%Y年%-m月%-d日')
            else strftime(contract_date, '%B %-d, %Y') end as contract_date_text,
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
                    then strftime(delivery_date + validation_period_days, '%Y年%-m月%-d日')
                    else strftime(delivery_date + validation_period_days, '%B %-d, %Y') end
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
