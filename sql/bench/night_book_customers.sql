-- Benchmark book's customers (pipelines/bench_night.py): the landing columns of the customers
-- feed for the customers of $accounts accounts of sql/bench/night_book_snapshots.sql (customer
-- number = account number * 10 // 11). Made-up people: CN customers in zh-CN, every tenth
-- customer in the US (en-US). $changed_share > 0 keeps only that share of customers (chosen by
-- hash with $seed): the changed rows a night's delta file carries.
-- Grain: one row per customer.
-- Columns (the customers feed, DOMAIN §7):
--   customer_id: 'BC' + 9-digit customer number
--   full_name, mobile_phone (E.164), email, postal_address, city, region, postal_code: made up;
--     phone, e-mail and address are each the customer's own (the letter linter holds a contact
--     whose destination another customer shares)
--   country: US for customer number % 10 = 0, else CN
--   preferred_language: en-US or zh-CN by country
--   timezone: America/Chicago or Asia/Shanghai by country
with

customers as (
    select distinct account_number * 10 // 11 as customer_number
    from range($accounts) as t(account_number)
),

chosen as (
    select customer_number, customer_number % 10 = 0 as is_us
    from customers
    where cast($changed_share as double) <= 0
        or hash(customer_number, $seed) % 1000000 < cast($changed_share as double) * 1000000
),

final as (
    select
        'BC' || lpad(cast(customer_number as varchar), 9, '0') as customer_id,
        case when is_us then 'Alex Morgan ' || customer_number
            else '李' || chr(cast(19968 + customer_number % 20000 as integer)) || '明' end
            as full_name,
        case when is_us then '+1312' || lpad(cast(customer_number % 10000000 as varchar), 7, '0')
            else '+86139' || lpad(cast(customer_number % 100000000 as varchar), 8, '0') end
            as mobile_phone,
        'c' || customer_number || case when is_us then '@example.com' else '@example.cn' end
            as email,
        case when is_us then customer_number || ' Lake Shore Drive'
            else '建国路' || customer_number || '号' end as postal_address,
        case when is_us then 'Chicago' else '北京' end as city,
        case when is_us then 'IL' else '北京' end as region,
        case when is_us then '60611' else '100022' end as postal_code,
        case when is_us then 'US' else 'CN' end as country,
        case when is_us then 'en-US' else 'zh-CN' end as preferred_language,
        case when is_us then 'America/Chicago' else 'Asia/Shanghai' end as timezone
    from chosen
)

select * from final
