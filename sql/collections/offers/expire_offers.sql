-- An offer nobody accepted by its valid_until expires the night after.
update offers
set status = 'expired', closed_night = cast($night as date)
where status = 'offered' and valid_until < cast($night as date)
