-- Violations of the file being loaded, per rule.
select contract_rules.rule, count(*) as violations
from violations
inner join contract_rules on violations.rule_index = contract_rules.rule_index
group by contract_rules.rule
