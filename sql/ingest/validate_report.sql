-- The first violations of a file being validated, in file order, for `overdue validate`.
select
    violations.__row_number as row_number,
    contract_rules.column_name,
    contract_rules.rule,
    violations.value
from violations
inner join contract_rules on violations.rule_index = contract_rules.rule_index
order by violations.__row_number, contract_rules.rule_index
limit $limit
