DROP TRIGGER jobs_notify_workers ON jobs;
DROP FUNCTION jobs_notify_workers();
DROP TABLE jobs;
