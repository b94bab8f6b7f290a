#!/usr/bin/env bash
# Checks deploy/ offline, with no container engine and no cluster:
#   - the Dockerfile with hadolint, every YAML file with yamllint;
#   - deploy/k8s rendered by `kubectl kustomize`, every object validated against the
#     Kubernetes $K8S_VERSION schemas (kubernetes-validate --strict, unknown fields refused),
#     the KEDA ScaledObject against KEDA's CRD schema (k8s/schemas/, unknown fields refused);
#   - the alert rules (promtool check rules, promtool test rules), and the PromQL of the
#     Grafana dashboard and of the KEDA trigger (promtool, on rules made from them);
#   - every KADR_* variable the Dockerfile, compose and the manifests set, through
#     `kadr config` (an unknown name or a bad value fails), and the cross-references
#     (Services the proxy names, the Ingress's backend, secrets that must agree, metric
#     names Kadr exports): deploy/check.py;
#   - the proxy's config with `nginx -t` (upstream names pointed at 127.0.0.1).
# The tools install themselves: a venv in target/deploy-venv from deploy/requirements-check.txt,
# and Debian's kubernetes-client, prometheus and nginx-light through install-deps.sh --test.
set -euo pipefail
cd "$(dirname "$0")/.."

K8S_VERSION=1.32.0
VENV=target/deploy-venv
CARGO=${CARGO:-cargo}
TARGET_DIR=${CARGO_TARGET_DIR:-target}

step() { printf 'deploy/check.sh: %s\n' "$*" >&2; }

# --- tools ---------------------------------------------------------------------------------
deploy/install-deps.sh --test
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if ! cmp -s deploy/requirements-check.txt "$VENV/requirements-check.txt"; then
  step "installing $(grep -cv '^#' deploy/requirements-check.txt) tools into $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r deploy/requirements-check.txt
  cp deploy/requirements-check.txt "$VENV/requirements-check.txt"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
"$CARGO" build --locked -q -p kadr
KADR=$TARGET_DIR/debug/kadr

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- Dockerfile and YAML -------------------------------------------------------------------
step "hadolint deploy/Dockerfile"
"$VENV/bin/hadolint" --config deploy/.hadolint.yaml deploy/Dockerfile

step "yamllint deploy/"
"$VENV/bin/yamllint" --strict -c deploy/.yamllint.yaml deploy/

# --- Kubernetes ----------------------------------------------------------------------------
step "kubectl kustomize deploy/k8s ($(kubectl version --client 2>/dev/null | head -1))"
kubectl kustomize deploy/k8s >"$tmp/k8s.yaml"

# Splits the rendering (k8s-core.yaml, scaledobject.yaml), writes the strict KEDA schema and
# the PromQL rule files, checks names, cross-references and every KADR_* set via `kadr config`.
step "deploy/check.py: KADR_* names and values (kadr config), cross-references"
"$VENV/bin/python" deploy/check.py --kadr "$KADR" --rendered "$tmp/k8s.yaml" --out "$tmp"

step "kubernetes-validate --strict (Kubernetes $K8S_VERSION)"
"$VENV/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$tmp/k8s-core.yaml"

step "KEDA ScaledObject against KEDA's CRD schema (v2.20.2, unknown fields refused)"
"$VENV/bin/check-jsonschema" --schemafile "$tmp/keda-scaledobject-strict.json" "$tmp/scaledobject.yaml"

# --- Prometheus ----------------------------------------------------------------------------
step "promtool: alert rules, their tests, the dashboard's and KEDA's queries"
promtool check rules deploy/prometheus/alerts.yaml
promtool test rules deploy/prometheus/alerts_test.yaml
promtool check rules "$tmp/queries-rules.yaml"

# --- nginx ---------------------------------------------------------------------------------
step "nginx -t on deploy/k8s/proxy/kadr.conf"
sed -e 's/server kadr-api:/server 127.0.0.1:/' -e 's/server kadr-upload-api:/server 127.0.0.1:/' \
  deploy/k8s/proxy/kadr.conf >"$tmp/kadr.conf"
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx.conf" <<NGINX
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events {}
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  include $tmp/kadr.conf;
}
NGINX
"$NGINX" -t -q -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx.conf"

step "all checks passed"
