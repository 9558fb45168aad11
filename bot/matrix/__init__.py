"""The Matrix side: session and keys, the sync loop, the inbox of events, the outbox sender."""
