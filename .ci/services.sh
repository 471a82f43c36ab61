#!/usr/bin/env bash
# Start Postgres and Redis on 127.0.0.1 for the session tests; export nothing, write .ci/services.env.
# Owned by the sessions work (issue 5); a no-op until then.
exit 0
