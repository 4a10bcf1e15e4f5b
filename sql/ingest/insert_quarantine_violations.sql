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
            else '''' || violations.value || ''''
        end || ')' as message
    from violations
    inner join contract_rules on violations.rule_index = contract_rules.rule_index
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
        cast(json_merge_patch(to_json(landed), '{"__row_number": null}') as varchar) as raw_record
    from described
    inner join landed on described.__row_number = landed.__row_number
)

select * from final order by row_number, rule
