-- Tonight's contact candidates by channel suppression (null: planned), for the asset metadata.
select channel_suppression, count(*) from tonight_candidates group by channel_suppression
