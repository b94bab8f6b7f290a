#!/usr/bin/env python3
"""The checks of deploy/check.sh that no single tool does (run with target/deploy-venv's Python).

- Every KADR_* variable that the Dockerfile, compose and the Kubernetes manifests give a
  `kadr` process goes through `kadr config`, which refuses an unknown name or a bad value.
- Cross-references: the Services (and compose services) the proxy's config names, with their
  ports; the Ingress sending everything to kadr-proxy; the proxy's ConfigMap being
  deploy/k8s/proxy/kadr.conf; secrets that must agree between files; probes, resources and
  security contexts of every pod; the targets of autoscalers and disruption budgets.
- Metric names in the alerts, the dashboard and the KEDA trigger are ones Kadr exports.

It also writes, into --out, what the tools of check.sh read: the rendered objects without the
ScaledObject (k8s-core.yaml) and the ScaledObject (scaledobject.yaml), KEDA's schema with
unknown fields refused, and a rule file holding every dashboard and KEDA query for promtool.
"""

import argparse
import base64
import copy
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
PROXY_CONF = DEPLOY / "k8s" / "proxy" / "kadr.conf"

errors = []


def error(msg):
    errors.append(msg)


def check(cond, msg):
    if not cond:
        error(msg)
    return cond


# --- environments and `kadr config` --------------------------------------------------------

def dotenv(path):
    """KEY=VALUE lines of an env file (compose's format, as the files here use it)."""
    env = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not check("=" in line, f"{path}:{n}: not KEY=VALUE"):
            continue
        key, value = line.split("=", 1)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def dockerfile_env(path):
    """The variables of the last stage's ENV instructions."""
    text = path.read_text().replace("\\\n", " ")
    stages = re.split(r"(?im)^FROM\s", text)
    env = {}
    for line in stages[-1].splitlines():
        m = re.match(r"\s*ENV\s+(.*)", line)
        if m:
            for item in m.group(1).split():
                if "=" in item:
                    k, v = item.split("=", 1)
                    env[k] = v
    return env


def kadr_config(kadr, env, what, home):
    """Runs `kadr config` with exactly `env` (plus PATH and HOME); returns its TOML or None."""
    names = sorted(k for k in env if k.startswith("KADR_"))
    check(names, f"{what}: sets no KADR_* variable")
    proc = subprocess.run(
        [kadr, "config"],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if not check(
        proc.returncode == 0,
        f"{what}: `kadr config` refuses its environment: {proc.stderr.strip()}",
    ):
        return None
    return proc.stdout


def port_of(addr):
    return int(addr.rsplit(":", 1)[1])


def worker_kinds():
    """Every worker kind and the outbound ones, as kadr-config lists them."""
    text = (ROOT / "crates" / "kadr-config" / "src" / "schema.rs").read_text()

    def listed(name):
        m = re.search(rf"pub const {name}: &\[&str\] = &\[(.*?)\];", text, re.S)
        check(m, f"schema.rs: no {name}")
        return re.findall(r'"([a-z_]+)"', m.group(1)) if m else []

    return listed("WORKER_KINDS"), set(listed("OUTBOUND_KINDS"))


def check_worker_split(where, workers):
    """`workers`: {name: `kadr config` TOML}. Every kind runs somewhere, and no worker that
    transcodes (running FFmpeg on uploaded files) also reaches servers outside."""
    kinds, outbound = worker_kinds()
    ran = set()
    for name, toml in workers.items():
        if toml is None:
            continue
        w = tomllib.loads(toml).get("worker", {})
        mine = {k for k in kinds
                if (not w.get("kinds") or k in w["kinds"]) and (w.get("outbound", True) or k not in outbound)}
        ran |= mine
        check(not ("transcode" in mine and mine & outbound),
              f"{where}: {name} transcodes and runs {sorted(mine & outbound)} (set KADR_WORKER__OUTBOUND=false)")
    check(ran >= set(kinds), f"{where}: no worker runs {sorted(set(kinds) - ran)}")


# The listen key of each role, as `kadr ROLE` reads it.
ROLE_LISTEN = {
    "upload-api": "KADR_UPLOAD_API__LISTEN",
    "api": "KADR_API__LISTEN",
    "worker": "KADR_WORKER__LISTEN",
    "all": "KADR_SERVER__LISTEN",
}


def proxy_upstreams():
    """`server NAME:PORT` lines of the proxy's config, as {NAME: PORT}."""
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^\s*server\s+([a-z0-9-]+):(\d+);", PROXY_CONF.read_text(), re.M)
    }


# --- compose -------------------------------------------------------------------------------

def check_compose(kadr, home, image_env):
    path = DEPLOY / "compose.yaml"
    compose = yaml.safe_load(path.read_text())
    services = compose["services"]
    kadr_services = {n: s for n, s in services.items() if s.get("image") == "kadr:local"}
    check(len(kadr_services) >= 4, f"{path}: no kadr services found")
    checked = {}
    workers = {}
    for name, svc in kadr_services.items():
        check(svc.get("build", {}).get("dockerfile") == "deploy/Dockerfile",
              f"{path}: {name} is not built from deploy/Dockerfile")
        env = dict(image_env)
        for f in svc.get("env_file", []):
            env.update(dotenv(path.parent / f))
        environment = svc.get("environment", {})
        if isinstance(environment, list):
            environment = dict(e.split("=", 1) for e in environment)
        env.update({k: str(v) for k, v in environment.items()})
        key = json.dumps(env, sort_keys=True)
        if key not in checked:
            checked[key] = kadr_config(kadr, env, f"compose service {name}", home)
        command = svc.get("command", [])
        role = command[0] if command else "api"
        if role == "worker":
            workers[name] = checked[key]
        if name == "migrate":
            check(command == ["migrate", "up"], f"{path}: migrate runs {command}")
            continue
        dep = svc.get("depends_on", {}).get("migrate", {})
        check(dep.get("condition") == "service_completed_successfully",
              f"{path}: {name} does not wait for migrate to complete")
        if role in ROLE_LISTEN:
            listen = env.get(ROLE_LISTEN[role], "")
            test = " ".join(svc.get("healthcheck", {}).get("test", []))
            check(listen and f":{port_of(listen)}/readyz" in test,
                  f"{path}: {name}'s health check is not /readyz on its port ({listen})")
    check_worker_split(str(path), workers)
    replicas = {n: s.get("deploy", {}).get("replicas", 1) for n, s in kadr_services.items()}
    check(replicas.get("kadr-api") == 2, f"{path}: kadr-api replicas {replicas.get('kadr-api')}")
    check(replicas.get("kadr-worker") == 2, f"{path}: kadr-worker replicas")
    check(replicas.get("kadr-upload-api") == 1, f"{path}: kadr-upload-api replicas")
    # The proxy: the shared rule file, and upstreams that are services listening there.
    proxy = services["proxy"]
    check("./k8s/proxy/kadr.conf:/etc/nginx/conf.d/default.conf:ro" in proxy.get("volumes", []),
          f"{path}: the proxy does not mount deploy/k8s/proxy/kadr.conf")
    for host, port in proxy_upstreams().items():
        svc = kadr_services.get(host)
        if not check(svc, f"{path}: the proxy sends to {host}, which is no kadr service"):
            continue
        env = dict(image_env)
        for f in svc.get("env_file", []):
            env.update(dotenv(path.parent / f))
        role = svc["command"][0]
        check(port_of(env[ROLE_LISTEN[role]]) == port,
              f"{path}: {host} ({role}) listens on {env[ROLE_LISTEN[role]]}, the proxy sends to {port}")
    # Secrets: marked as placeholders, and equal where two containers must agree.
    kadr_env = dotenv(path.parent / "compose" / "kadr.env")
    pg_env = dotenv(path.parent / "compose" / "postgres.env")
    s3 = json.loads((path.parent / "compose" / "seaweedfs-s3.json").read_text())
    cred = s3["identities"][0]["credentials"][0]
    for k in ["KADR_DATABASE__URL", "KADR_STORAGE__S3__SECRET_ACCESS_KEY",
              "KADR_API__MEDIA_SECRET", "KADR_ADMIN_PASSWORD"]:
        check("CHANGE-ME" in kadr_env.get(k, ""), f"kadr.env: {k} is not a marked placeholder")
    m = re.match(r"postgres://([^:]+):([^@]+)@([^:/]+)", kadr_env["KADR_DATABASE__URL"])
    check(m and m.group(1) == pg_env["POSTGRES_USER"] and m.group(2) == pg_env["POSTGRES_PASSWORD"],
          "compose: KADR_DATABASE__URL's user and password differ from postgres.env's")
    check(m and m.group(3) in services, "compose: KADR_DATABASE__URL names no service")
    check(cred["accessKey"] == kadr_env["KADR_STORAGE__S3__ACCESS_KEY_ID"]
          and cred["secretKey"] == kadr_env["KADR_STORAGE__S3__SECRET_ACCESS_KEY"],
          "compose: the S3 key in kadr.env differs from seaweedfs-s3.json's")
    weed = services["seaweedfs"]
    check(f"-bucket={kadr_env['KADR_STORAGE__S3__BUCKET']}" in weed["command"],
          "compose: SeaweedFS does not create the bucket kadr.env names")
    endpoint_host = re.match(r"https?://([^:/]+)", kadr_env["KADR_STORAGE__S3__ENDPOINT"]).group(1)
    check(endpoint_host in weed["networks"]["kadr"].get("aliases", []),
          "compose: the S3 endpoint's name is not SeaweedFS's alias")
    check(len(kadr_env["KADR_API__MEDIA_SECRET"]) >= 32, "kadr.env: media secret under 32 chars")
    proxy_ip = proxy["networks"]["kadr"]["ipv4_address"]
    check(proxy_ip in json.loads(kadr_env["KADR_SERVER__TRUSTED_PROXIES"]),
          "compose: the proxy's address is not in KADR_SERVER__TRUSTED_PROXIES")
    return len(checked)


# --- Kubernetes ----------------------------------------------------------------------------

def labels_match(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def check_k8s(kadr, home, rendered, out):
    docs = [d for d in yaml.safe_load_all(Path(rendered).read_text()) if d]
    by = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    core = [d for d in docs if d["kind"] != "ScaledObject"]
    scaled = [d for d in docs if d["kind"] == "ScaledObject"]
    (out / "k8s-core.yaml").write_text(yaml.safe_dump_all(core, sort_keys=False))
    check(len(scaled) == 1, f"one ScaledObject expected, {len(scaled)} rendered")
    (out / "scaledobject.yaml").write_text(yaml.safe_dump_all(scaled, sort_keys=False))
    for d in docs:
        if d["kind"] != "Namespace":
            check(d["metadata"].get("namespace") == "kadr", f"{d['kind']}/{d['metadata']['name']}: no namespace")

    def source(kind, name):
        obj = by.get((kind, name))
        check(obj, f"{kind}/{name} is referred to but not rendered")
        return obj or {}

    envs = {}
    workers = {}
    workloads = [d for d in docs if d["kind"] in ("Deployment", "Job")]
    for w in workloads:
        wname = f"{w['kind']}/{w['metadata']['name']}"
        pod = w["spec"]["template"]["spec"]
        pod_sc = pod.get("securityContext", {})
        check(pod_sc.get("runAsNonRoot") is True, f"{wname}: runAsNonRoot not set")
        check(pod.get("automountServiceAccountToken") is False, f"{wname}: mounts a token")
        if w["kind"] == "Deployment":
            labels = w["spec"]["template"]["metadata"]["labels"]
            check(labels_match(w["spec"]["selector"]["matchLabels"], labels),
                  f"{wname}: selector does not match its pods")
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for v in volumes.values():
            if "configMap" in v:
                source("ConfigMap", v["configMap"]["name"])
        for c in pod.get("initContainers", []) + pod["containers"]:
            cname = f"{wname} container {c['name']}"
            sc = c.get("securityContext", {})
            check(sc.get("readOnlyRootFilesystem") is True, f"{cname}: root filesystem writable")
            check(sc.get("allowPrivilegeEscalation") is False, f"{cname}: privilege escalation")
            check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{cname}: capabilities kept")
            res = c.get("resources", {})
            for part in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    check(r in res.get(part, {}), f"{cname}: no {part}.{r}")
            for m in c.get("volumeMounts", []):
                check(m["name"] in volumes, f"{cname}: mounts unknown volume {m['name']}")
            long_running = w["kind"] == "Deployment" and c in pod["containers"]
            if long_running:
                check("readinessProbe" in c and "livenessProbe" in c, f"{cname}: probes missing")
            if "/kadr:" not in c["image"]:
                continue
            env = {}
            for ef in c.get("envFrom", []):
                if "configMapRef" in ef:
                    env.update(source("ConfigMap", ef["configMapRef"]["name"]).get("data", {}))
                if "secretRef" in ef:
                    s = source("Secret", ef["secretRef"]["name"])
                    env.update({k: base64.b64decode(v).decode() for k, v in s.get("data", {}).items()})
                    env.update(s.get("stringData", {}))
            for e in c.get("env", []):
                if "value" in e:
                    env[e["name"]] = e["value"]
            key = json.dumps(env, sort_keys=True)
            if key not in envs:
                envs[key] = kadr_config(kadr, env, cname, home)
            args = c.get("args", [])
            role = args[0] if args else None
            if long_running and role == "worker":
                workers[wname] = envs[key]
            if long_running and role in ROLE_LISTEN:
                listen = env.get(ROLE_LISTEN[role], "")
                ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
                check(listen and ports.get("http") == port_of(listen),
                      f"{cname}: port http {ports.get('http')} is not where {role} listens ({listen})")
                metrics = env.get("KADR_SERVER__METRICS_LISTEN")
                check(metrics and ports.get("metrics") == port_of(metrics),
                      f"{cname}: port metrics is not server.metrics_listen")
                for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
                    got = c[probe].get("httpGet", {})
                    check(got.get("path") == path and got.get("port") == "http",
                          f"{cname}: {probe} is not GET {path} on port http")
    check_worker_split("deploy/k8s", workers)
    # Every worker is held to a NetworkPolicy's egress rules.
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    for w in (d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] in
              {n.split("/", 1)[1] for n in workers}):
        labels = w["spec"]["template"]["metadata"]["labels"]
        check(any("Egress" in p["spec"].get("policyTypes", [])
                  and labels_match(p["spec"]["podSelector"].get("matchLabels", {}), labels)
                  for p in policies),
              f"Deployment/{w['metadata']['name']}: no NetworkPolicy limits its egress")
    # Services select pods and name ports those pods have.
    pods = [(w["spec"]["template"]["metadata"]["labels"], w["spec"]["template"]["spec"])
            for w in docs if w["kind"] == "Deployment"]
    for s in (d for d in docs if d["kind"] == "Service"):
        sname = f"Service/{s['metadata']['name']}"
        matching = [spec for labels, spec in pods if labels_match(s["spec"]["selector"], labels)]
        if not check(matching, f"{sname} selects no pods"):
            continue
        names = {p.get("name") for spec in matching for c in spec["containers"] for p in c.get("ports", [])}
        for p in s["spec"]["ports"]:
            check(p["targetPort"] in names, f"{sname}: target port {p['targetPort']} is no pod port")
    # The proxy's upstreams are Services with those ports.
    for host, port in proxy_upstreams().items():
        svc = source("Service", host)
        check(any(p["port"] == port for p in svc.get("spec", {}).get("ports", [])),
              f"Service/{host} has no port {port}, which the proxy sends to")
    # The proxy's ConfigMap is the rule file itself.
    proxy_cms = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("kadr-proxy")]
    check(len(proxy_cms) == 1 and proxy_cms[0]["data"].get("default.conf") == PROXY_CONF.read_text(),
          "the kadr-proxy ConfigMap is not deploy/k8s/proxy/kadr.conf")
    # The Ingress sends everything to kadr-proxy.
    for ing in (d for d in docs if d["kind"] == "Ingress"):
        for rule in ing["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                backend = p["backend"]["service"]
                check(backend["name"] == "kadr-proxy",
                      f"Ingress/{ing['metadata']['name']}: {p['path']} goes to {backend['name']}, not kadr-proxy")
                svc = source("Service", backend["name"])
                check(any(sp.get("name") == backend["port"].get("name") or sp["port"] == backend["port"].get("number")
                          for sp in svc.get("spec", {}).get("ports", [])),
                      f"Ingress/{ing['metadata']['name']}: Service port {backend['port']} does not exist")
        ann = ing["metadata"].get("annotations", {})
        for k, v in {"proxy-body-size": "0", "proxy-request-buffering": "off"}.items():
            check(ann.get(f"nginx.ingress.kubernetes.io/{k}") == v, f"Ingress: {k} is not {v}")
    # Autoscalers and budgets point at what exists.
    for h in (d for d in docs if d["kind"] == "HorizontalPodAutoscaler"):
        ref = h["spec"]["scaleTargetRef"]
        source(ref["kind"], ref["name"])
    for pdb in (d for d in docs if d["kind"] == "PodDisruptionBudget"):
        sel = pdb["spec"]["selector"]["matchLabels"]
        check(any(labels_match(sel, labels) for labels, _ in pods), f"PDB {pdb['metadata']['name']} selects nothing")
    queries = []
    for so in scaled:
        source("Deployment", so["spec"]["scaleTargetRef"]["name"])
        dep = by.get(("Deployment", so["spec"]["scaleTargetRef"]["name"]), {})
        check("replicas" not in dep.get("spec", {}), "a Deployment KEDA scales sets replicas")
        for t in so["spec"]["triggers"]:
            if not check(t["type"] == "prometheus", f"ScaledObject: unexpected trigger {t['type']}"):
                continue
            md = t["metadata"]
            for k in ("serverAddress", "query", "threshold"):
                check(k in md, f"ScaledObject: prometheus trigger without {k}")
            try:
                float(md.get("threshold", "x"))
            except ValueError:
                error("ScaledObject: threshold is not a number")
            queries.append(("keda", md.get("query", "")))
    return len(envs), queries


def strict_schema(schema):
    """A copy refusing unknown fields wherever the schema lists the known ones."""
    s = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (node.get("type") == "object" and "properties" in node
                    and "additionalProperties" not in node
                    and not node.get("x-kubernetes-preserve-unknown-fields")):
                node["additionalProperties"] = False
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(s)
    # The document's own apiVersion/kind/metadata/spec/status sit at the top.
    return s


# --- metrics -------------------------------------------------------------------------------

def exported_metrics():
    """kadr_* names registered in the Rust sources (histograms with their series suffixes)."""
    names = set()
    for path in (ROOT / "crates").rglob("*.rs"):
        text = path.read_text()
        for m in re.finditer(r'(?:Opts::new|HistogramOpts::new|Gauge::new)\(\s*"([a-z_]+)"', text):
            base = "kadr_" + m.group(1)
            names.update({base, base + "_bucket", base + "_sum", base + "_count"})
    return names


def check_metric_names(queries, known):
    for where, expr in queries:
        for name in re.findall(r"\b(kadr_[a-z_]+)\b", expr):
            check(name in known, f"{where}: {name} is not a metric Kadr exports")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kadr", required=True)
    ap.add_argument("--rendered", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    out = Path(a.out)
    home = str(out)

    image_env = dockerfile_env(DEPLOY / "Dockerfile")
    check(image_env.get("KADR_API__WEB_DIR") == "/usr/local/share/kadr/web",
          "Dockerfile: KADR_API__WEB_DIR is not the copied web UI")
    kadr_config(os.path.abspath(a.kadr), image_env, "Dockerfile ENV", home)
    n_compose = check_compose(os.path.abspath(a.kadr), home, image_env)
    n_k8s, queries = check_k8s(os.path.abspath(a.kadr), home, a.rendered, out)

    schema = json.loads((DEPLOY / "k8s" / "schemas" / "keda-scaledobject-v1alpha1.json").read_text())
    (out / "keda-scaledobject-strict.json").write_text(json.dumps(strict_schema(schema)))

    known = exported_metrics()
    check(len(known) > 20, "too few metrics found in the sources")
    known.add("up")
    dash = json.loads((DEPLOY / "grafana" / "kadr.json").read_text())

    def panels(ps):
        for p in ps:
            yield p
            yield from panels(p.get("panels", []))

    for p in panels(dash["panels"]):
        for t in p.get("targets", []):
            queries.append((f"dashboard panel {p['title']!r}", t["expr"]))
    alerts = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yaml").read_text())
    alert_exprs = [(f"alert {r['alert']}", r["expr"]) for g in alerts["groups"] for r in g["rules"]]
    check_metric_names(queries + alert_exprs, known)
    # Grafana's variables replaced by what they stand for, so promtool can parse each query.
    rules = [{"record": f"kadr_check:query_{i}",
              "expr": e.replace("$__rate_interval", "5m").replace('"$job"', '".*"')}
             for i, (_, e) in enumerate(queries)]
    (out / "queries-rules.yaml").write_text(
        yaml.safe_dump({"groups": [{"name": "dashboard-and-keda", "rules": rules}]}, sort_keys=False))

    if errors:
        for e in errors:
            print(f"deploy/check.py: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"deploy/check.py: kadr config accepted {1 + n_compose + n_k8s} environments; "
          f"{len(queries)} queries and {len(alert_exprs)} alerts name exported metrics",
          file=sys.stderr)


if __name__ == "__main__":
    main()
