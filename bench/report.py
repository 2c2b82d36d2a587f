#!/usr/bin/env python3
"""bench/report.py: turns the scenario lines of bench/run into a markdown table (stdout),
a JSON file and an SVG chart (throughput and p99 per scenario, the gateway beside its floor);
a memory soak (bench/run soak) is summarised after the table: the gateway's RSS at the start,
its peak, at the end, and the growth over the run and after the warm-up (its first tenth).
Besides each scenario's floor (side "floor"), read has a bare primary-key lookup floor (side
"pk_floor": columns "PK floor req/s" and "gateway / PK floor") and create a pgbench -N run
(side "pgbench": the line "FHIR create / pgbench -N" under the table)."""
import json
import platform
import sys

src, json_out, svg_out, patients, documents, seconds, connections = sys.argv[1:8]
# The load that filled the store (carnet-bench load's JSON line) and its size on disk.
load, database_bytes = None, 0
if len(sys.argv) > 9:
    try:
        lines = [l for l in open(sys.argv[8]) if l.strip().startswith("{")]
        load = json.loads(lines[-1]) if lines else None
    except (OSError, ValueError):
        load = None
    database_bytes = int(sys.argv[9] or 0)
rows, soak = {}, None
for line in open(src):
    line = line.strip()
    if not line:
        continue
    r = json.loads(line)
    if r.get("kind") == "soak":
        soak = r
        continue
    rows.setdefault(r["scenario"], {})[r["side"]] = r


def soak_summary(r):
    """Start, peak, end and growth of the gateway's RSS (MB) over a soak's samples."""
    samples = r["rss_kb"]
    mb = [kb / 1024 for _, kb in samples]
    start, peak, end = mb[0], max(mb), mb[-1]
    # The warm-up: caches, pools and allocator arenas fill in the first tenth of the run; what
    # grows after it is what a leak would look like.
    warm_at = max(r["interval_s"], r["seconds"] / 10)
    warm = next((m for (t, _), m in zip(samples, mb) if t >= warm_at), end)
    client = r["client"]
    return {"scenario": r["scenario"], "seconds": r["seconds"], "interval_s": r["interval_s"],
            "requests": client["requests"], "errors": client["errors"],
            "throughput": client["throughput"], "p99_ms": client["p99_ms"],
            "start_mb": round(start, 1), "peak_mb": round(peak, 1), "end_mb": round(end, 1),
            "growth_mb": round(end - start, 1),
            "growth_pct": round(100 * (end - start) / start, 1) if start else 0,
            "warmup_s": warm_at, "after_warmup_mb": round(warm, 1),
            "growth_after_warmup_mb": round(end - warm, 1),
            "growth_after_warmup_pct": round(100 * (end - warm) / warm, 1) if warm else 0,
            "rss_kb": samples}

cpu = "unknown"
try:
    for l in open("/proc/cpuinfo"):
        if l.startswith("model name"):
            cpu = l.split(":", 1)[1].strip()
            break
except OSError:
    pass
machine = f"{cpu}, {len([l for l in open('/proc/cpuinfo') if l.startswith('processor')])} cores, {platform.system()} {platform.release()}"

per_scenario = f"{seconds} s per scenario, " if rows else ""
print(f"Data: {patients} patients, {documents} documents; {per_scenario}{connections} connections. Machine: {machine}.")
if load:
    print()
    print(f"Store: {load.get('documents', 0):,} documents, {load.get('resources', 0):,} resources and "
          f"{load.get('accesses', 0):,} access events of {load.get('patients', 0):,} patients, loaded by the "
          f"{load.get('path', '?')} path in {load.get('seconds', 0):.0f} s ({load.get('documents_per_s', 0):.0f} "
          f"documents/s, {load.get('rows_per_s', 0):.0f} rows/s) plus {load.get('analyze_seconds', 0):.0f} s of "
          f"VACUUM (ANALYZE); {database_bytes / 2**30:.1f} GiB on disk.")
if rows:
    print()
    print("| scenario | gateway req/s | p50 ms | p99 ms | max ms | errors | peak RSS MB | gateway CPU µs/req | floor req/s | floor p99 ms | gateway / floor | PK floor req/s | gateway / PK floor |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
ratios = {}
for name, sides in rows.items():
    g, f, pk = sides.get("gateway", {}), sides.get("floor", {}), sides.get("pk_floor", {})
    ratio = g.get("throughput", 0) / f["throughput"] if f.get("throughput") else 0
    # The bare primary-key lookup (read only; issue 20 aims at gateway / PK floor >= 0.15).
    pk_cells = "| |"
    if pk.get("throughput"):
        ratios[f"{name}_gateway_over_pk_floor"] = round(g.get("throughput", 0) / pk["throughput"], 3)
        pk_cells = f"{pk['throughput']:.0f} | {ratios[f'{name}_gateway_over_pk_floor']:.2f} |"
    # The gateway's own CPU (user + system, from /proc) over the requests it answered: what
    # the gateway spends per request, whatever else shares the machine.
    answered = g.get("requests", 0)
    cpu_per_req = g.get("gateway_cpu_us", 0) / answered if answered else 0
    if g:
        g["cpu_us_per_request"] = round(cpu_per_req, 1)
    print(f"| {name} | {g.get('throughput', 0):.0f} | {g.get('p50_ms', 0):.2f} | {g.get('p99_ms', 0):.2f} | "
          f"{g.get('max_ms', 0):.1f} | {g.get('errors', 0)} | {g.get('peak_rss_kb', 0) / 1024:.0f} | "
          f"{cpu_per_req:.0f} | "
          f"{f.get('throughput', 0):.0f} | {f.get('p99_ms', 0):.2f} | {ratio:.2f} | {pk_cells}")

# FHIR create against pgbench -N on the same cluster, clients and duration (issue 20 aims at
# >= 0.5).
create, tpcb = rows.get("create", {}).get("gateway", {}), rows.get("create", {}).get("pgbench", {})
if tpcb.get("throughput"):
    ratios["create_over_pgbench_n"] = round(create.get("throughput", 0) / tpcb["throughput"], 3)
    print()
    print(f"FHIR create / pgbench -N: {create.get('throughput', 0):.0f} / {tpcb['throughput']:.0f} tps = "
          f"{ratios['create_over_pgbench_n']:.2f} (pgbench -N -M prepared, scale 1, same cluster, "
          f"{connections} clients, p50 {tpcb.get('p50_ms', 0):.2f} ms, p99 {tpcb.get('p99_ms', 0):.2f} ms, "
          f"{tpcb.get('errors', 0)} failed).")

soak_json = soak_summary(soak) if soak else None
if soak_json:
    s = soak_json
    print()
    print(f"Memory soak: {s['scenario']} for {s['seconds']} s, {connections} connections: "
          f"{s['throughput']:.0f} req/s, p99 {s['p99_ms']:.2f} ms, {s['errors']} errors. "
          f"Gateway RSS (every {s['interval_s']} s): start {s['start_mb']:.1f} MB, peak {s['peak_mb']:.1f} MB, "
          f"end {s['end_mb']:.1f} MB; growth {s['growth_mb']:+.1f} MB ({s['growth_pct']:+.1f}%), "
          f"{s['growth_after_warmup_mb']:+.1f} MB ({s['growth_after_warmup_pct']:+.1f}%) after the first "
          f"{s['warmup_s']:.0f} s.")

json.dump({"patients": int(patients), "documents": int(documents), "seconds": float(seconds),
           "connections": int(connections), "machine": machine, "load": load,
           "database_bytes": database_bytes, "scenarios": rows, "ratios": ratios, "soak": soak_json}, open(json_out, "w"), indent=1)

# The chart: one group per scenario, throughput bars (gateway, floor) and p99 marks.
names = list(rows)
width, height, left, bottom = 140 * max(1, len(names)) + 120, 360, 70, 60
top = max([s.get(side, {}).get("throughput", 0) for s in rows.values() for side in ("gateway", "floor")] + [1])
def y(v):
    return height - bottom - (height - bottom - 30) * v / top
parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
         f'<text x="{left}" y="18" font-size="14">Throughput (req/s): gateway (blue) beside the PostgreSQL floor (grey); p99 ms above</text>',
         f'<line x1="{left}" y1="{height-bottom}" x2="{width-20}" y2="{height-bottom}" stroke="black"/>']
for i, name in enumerate(names):
    x0 = left + 20 + i * 140
    for j, (side, colour) in enumerate((("gateway", "#3b6fb6"), ("floor", "#9a9a9a"))):
        r = rows[name].get(side, {})
        v = r.get("throughput", 0)
        x = x0 + j * 50
        parts.append(f'<rect x="{x}" y="{y(v):.1f}" width="45" height="{height-bottom-y(v):.1f}" fill="{colour}"/>')
        parts.append(f'<text x="{x}" y="{y(v)-4:.1f}">{v:.0f}</text>')
        parts.append(f'<text x="{x}" y="{y(v)-18:.1f}" fill="#b03030">{r.get("p99_ms", 0):.1f}ms</text>')
    parts.append(f'<text x="{x0}" y="{height-bottom+18}">{name}</text>')
parts.append("</svg>")
open(svg_out, "w").write("\n".join(parts))
