-- A `known_in` rule whose table does not exist yet accepts no key.
create or replace temp table {{ reference }} (key varchar)
