-- The keys of one `known_in` rule's reference table, for great-expectations' value set.
select key from {{ reference }}
