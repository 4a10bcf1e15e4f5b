-- Quarantine every (row, rule) violation with a readable message and the original record.
insert into quarantine
with

described as (
    select
        violations.__row_number,
        contract_rules.column_name,
        contract_rules.rule,
        contract_rules.description
        || ' (' || contract_rules.column_name || ' = '
        || case
            when contract_rules.personal_data then '<personal data>'
            when violations.value is null then 'empty'
            when length(violations.value) > 200
                then '''' || left(violations.value, 200) || '''… (' || length(violations.value) || ' characters)'
            else '''' || violations.value || ''''
        end || ')' as message
    from violations
    inner join contract_rules on violations.rule_index = contract_rules.rule_index
),

raw_records as (
    -- the landed record as JSON, cut to $raw_record_limit characters so a huge value stays small
    select
        landed.__row_number,
        cast(json_merge_patch(to_json(landed), '{"__row_number": null}') as varchar) as full_record,
        case
            when length(full_record) > $raw_record_limit
                then left(full_record, $raw_record_limit)
                || '… [truncated: ' || length(full_record) || ' characters in all]'
            else full_record
        end as raw_record
    from landed
    where landed.__row_number in (select described.__row_number from described)
),

final as (
    select
        $feed as feed,
        $file_date as snapshot_date,
        $source_file as source_file,
        $sha256 as file_sha256,
        described.__row_number as row_number,
        described.column_name,
        described.rule,
        described.message,
        raw_records.raw_record
    from described
    inner join raw_records on described.__row_number = raw_records.__row_number
)

select * from final order by row_number, rule
