-- Row numbers flagged by each rule, to compare the SQL engine with great-expectations.
select
    contract_rules.rule,
    list(violations.__row_number order by violations.__row_number) as row_numbers
from violations
inner join contract_rules on violations.rule_index = contract_rules.rule_index
group by contract_rules.rule
