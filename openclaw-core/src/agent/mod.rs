//! The agent loop: turns, tool batches, steering and follow-up queues, abort and retry.
