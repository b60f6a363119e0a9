-- The job queue (src/jobs): work done after the transaction that asked for
-- it, retried until it succeeds. A job is enqueued inside the transaction
-- of the change that needs it, so a change that rolls back leaves no job
-- and a committed one always has its job. Workers claim due jobs with
-- `FOR UPDATE SKIP LOCKED`, so several processes share the queue without
-- taking a job twice.
--
-- Every service has this table in its own database; the SQL is the same.
CREATE TABLE jobs (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- What to do: the name a worker's handler is registered under, and its
    -- input.
    kind          text        NOT NULL,
    payload       jsonb       NOT NULL DEFAULT '{}',
    state         text        NOT NULL DEFAULT 'pending',
    -- Claims so far, counted when a worker takes the job, so a job whose
    -- worker keeps dying also runs out of attempts.
    attempts      integer     NOT NULL DEFAULT 0,
    max_attempts  integer     NOT NULL DEFAULT 10,
    -- When it is due: at once, or after its retry's backoff.
    run_at        timestamptz NOT NULL DEFAULT now(),
    -- The lease of a running job: until then it is its worker's; after it
    -- (the worker died or lost the database) any worker may claim it again.
    locked_until  timestamptz,
    -- The error of the last failed attempt, kept when a retry succeeds.
    last_error    text,
    -- At most one job per key, ever: periodic jobs use 'kind@<period start>',
    -- so the job of a period is enqueued once however many processes try.
    -- NULL for the rest (NULLs never conflict).
    unique_key    text        UNIQUE,
    create_time   timestamptz NOT NULL DEFAULT now(),
    -- When it succeeded or failed for good.
    finish_time   timestamptz,
    CONSTRAINT jobs_state_known CHECK (state IN ('pending', 'running', 'succeeded', 'failed')),
    CONSTRAINT jobs_max_attempts_positive CHECK (max_attempts >= 1)
);

-- What workers read: the work still to do, in the order it is due. Finished
-- jobs leave the index, so it stays as small as the backlog.
CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE state IN ('pending', 'running');

-- Wakes the workers when jobs commit (NOTIFY is delivered at commit, and
-- only then; several in one transaction are folded into one).
CREATE FUNCTION jobs_notify_workers() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('jobs', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER jobs_notify_workers
    AFTER INSERT ON jobs
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_notify_workers();
