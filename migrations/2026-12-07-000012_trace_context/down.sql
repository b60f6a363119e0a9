ALTER TABLE audit_events
    DROP COLUMN trace_state,
    DROP COLUMN trace_parent;
