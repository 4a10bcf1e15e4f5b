-- Distinct rows of the file being loaded that broke at least one rule.
select count(distinct __row_number) from violations
