-- The benchmark's customers_history and an empty contact_events, one customer per account.
create or replace table customers_history as
select
    snapshot_date as landing_date, customer_id,
    case when currency = 'USD' then 'Mary Smith ' || source_row else '王芳' || source_row end
        as full_name,
    '+86138' || lpad(cast(source_row as varchar), 8, '0') as mobile_phone,
    'c' || source_row || '@example.cn' as email,
    '建国路' || source_row || '号' as postal_address,
    '北京' as city, '北京' as region, '100022' as postal_code,
    case when currency = 'USD' then 'US' else 'CN' end as country,
    case when currency = 'USD' then 'en-US' else 'zh-CN' end as preferred_language,
    case when currency = 'USD' then 'America/New_York' else 'Asia/Shanghai' end as timezone,
    cast(null as json) as extra_columns, 'bench' as source_file, source_row
from account_snapshots;
create or replace table contact_events (
    landing_date date, event_id varchar, event_time timestamptz, customer_id varchar,
    account_id varchar, event_type varchar, channel varchar, amount decimal(18, 2),
    until_date date, extra_columns json, source_file varchar, source_row bigint
)
