# Shared by the benchmarks: wrk runs and their figures. Needs $SECS and $WORK.

# Runs wrk; prints "requests/s p99_ms".
bench() {
  local url=$1 conns=$2; shift 2
  wrk -t2 -c"$conns" -d"${SECS}s" --latency "$@" "$url" > "$WORK/wrk.out" 2>&1
  python3 - "$WORK/wrk.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", t)
v, unit = float(m.group(1)), m.group(2)
p99 = v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
if errors:
    sys.exit(f"wrk: {errors.group(1)} failed responses:\n{t}")
print(f"{rps:.0f} {p99:.2f}")
PY
}

# A URL warmed for 2 s before it is measured (first builds read cold data).
warm() { wrk -t1 -c4 -d2s "$@" > /dev/null 2>&1 || true; }
