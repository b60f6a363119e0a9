-- The W3C trace context of the change that wrote each row (`traceparent`,
-- and `tracestate` when the trace has one), so the relay continues that
-- trace when it publishes the row's event. NULL when the writing process
-- did not export traces or its span was not sampled. Adding nullable
-- columns without a default rewrites nothing: instant on any table size.
ALTER TABLE audit_events
    ADD COLUMN trace_parent text,
    ADD COLUMN trace_state text;
