-- experiment_assignments: each customer's arm in each experiment, as first assigned (kept for
-- the experiment's life, whatever later changes to its shares).
create table if not exists experiment_assignments (
    experiment_id varchar not null,
    customer_id varchar not null,
    arm varchar not null,
    first_night date not null
)
