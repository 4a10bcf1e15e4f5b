-- bucket_rank: the order of the buckets, to tell a roll forward from a roll back.
create or replace macro bucket_rank(bucket) as
    case bucket
        when 'M0' then 0 when 'M1' then 1 when 'M2' then 2 when 'M3' then 3 when 'M4' then 4
        when 'M5' then 5 when 'M6' then 6 when 'WO' then 7
    end
