-- Who holds a recording job's lease (the runner's owner id), as videos.lease_owner: a worker
-- stores the outcome, renews or gives back the job only while the lease is still its own, so a
-- worker wrongly taken for dead cannot overwrite the result of the one that took the job over.
ALTER TABLE recordings ADD COLUMN lease_owner text;
