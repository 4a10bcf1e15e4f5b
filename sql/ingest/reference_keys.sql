-- The keys a `known_in` rule accepts: every {{ key }} of {{ table }} as the file is loaded.
create or replace temp table {{ reference }} as
select distinct {{ key }} as key from {{ table }} where {{ key }} is not null
