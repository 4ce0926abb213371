-- wrk script for the unprotected echo reference (docs/LOAD-TESTING.md):
-- POST 64 bytes to `sage-bench echo-server`'s /echo, like the echo scenario.
--   sage-bench echo-server --listen 127.0.0.1:8081 &
--   wrk -t 1 -c 10 -d 30s --latency -s loadtest/wrk/echo-64.lua http://127.0.0.1:8081/echo
wrk.method = "POST"
wrk.body = string.rep("x", 64)
wrk.headers["Content-Type"] = "application/octet-stream"
