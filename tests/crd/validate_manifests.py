#!/usr/bin/python3
"""Validates the CRDs and every example against its CRD's schema; invalid examples must be rejected.

Checks that each CRD is structural in the ways the API server enforces (every schema node has a type unless it is
int-or-string, preserve-unknown-fields, or a oneOf/anyOf branch of constraints only), then validates examples with
jsonschema (OpenAPI v3 schemas are a JSON-Schema dialect; the x-kubernetes-* keys are annotations to it).
Exits 0 when everything holds, 1 with one line per problem otherwise.
"""
import glob
import os
import sys

import jsonschema
import yaml

root = os.environ.get("SLO_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
problems = []
checked = 0


def structural(node, path, in_branch=False):
    if not isinstance(node, dict):
        return
    special = node.get("x-kubernetes-int-or-string") or node.get("x-kubernetes-preserve-unknown-fields")
    if "type" not in node and not special and not in_branch:
        problems.append(f"{path}: schema node without type (not structural)")
    for key, sub in node.get("properties", {}).items():
        structural(sub, f"{path}.{key}")
    if "items" in node:
        structural(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        structural(node["additionalProperties"], f"{path}.*")
    for comb in ("oneOf", "anyOf", "allOf"):
        for i, sub in enumerate(node.get(comb, [])):
            if node.get("x-kubernetes-int-or-string"):
                continue
            if "type" in sub and comb != "anyOf":
                problems.append(f"{path}.{comb}[{i}]: type inside a {comb} branch is not allowed")
            structural(sub, f"{path}.{comb}[{i}]", in_branch=True)


schemas = {}
for crd_file in sorted(glob.glob(os.path.join(root, "crd", "*.yaml"))):
    crd = yaml.safe_load(open(crd_file))
    if crd.get("kind") != "CustomResourceDefinition":
        continue
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    for v in crd["spec"]["versions"]:
        schema = v["schema"]["openAPIV3Schema"]
        structural(schema, f"{os.path.basename(crd_file)}:{v['name']}")
        jsonschema.Draft7Validator.check_schema(schema)
        schemas[(f"{group}/{v['name']}", kind)] = schema
    checked += 1

if not schemas:
    problems.append("no CRDs found under crd/")


def validate(path):
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    errors = []
    for d in docs:
        key = (d.get("apiVersion"), d.get("kind"))
        if key not in schemas:
            errors.append(f"no CRD for {key}")
            continue
        v = jsonschema.Draft7Validator(schemas[key])
        errors += [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in v.iter_errors(d)]
    return docs, errors


for ex in sorted(glob.glob(os.path.join(root, "crd", "examples", "*.yaml"))):
    docs, errors = validate(ex)
    checked += len(docs)
    for e in errors:
        problems.append(f"{os.path.relpath(ex, root)}: {e}")

for ex in sorted(glob.glob(os.path.join(root, "crd", "examples", "invalid", "*.yaml"))):
    docs, errors = validate(ex)
    checked += len(docs)
    if not errors:
        problems.append(f"{os.path.relpath(ex, root)}: accepted, but it is invalid on purpose")

# The DaemonSet bundle: what the cluster section of the README promises.
ds_path = os.path.join(root, "deploy", "daemonset.yaml")
bundle = {d["kind"]: d for d in yaml.safe_load_all(open(ds_path)) if d}
checked += len(bundle)
for kind in ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet"):
    if kind not in bundle:
        problems.append(f"deploy/daemonset.yaml: no {kind}")
if "DaemonSet" in bundle:
    pod = bundle["DaemonSet"]["spec"]["template"]["spec"]
    c = pod["containers"][0]
    if pod.get("priorityClassName") != "system-node-critical":
        problems.append("DaemonSet: priorityClassName must be system-node-critical")
    if {"operator": "Exists"} not in pod.get("tolerations", []):
        problems.append("DaemonSet: must tolerate every taint")
    for probe in ("livenessProbe", "readinessProbe"):
        if probe not in c:
            problems.append(f"DaemonSet: no {probe}")
    if "limits" not in c.get("resources", {}) or "requests" not in c.get("resources", {}):
        problems.append("DaemonSet: requests and limits must be set")
    if c.get("securityContext", {}).get("privileged"):
        problems.append("DaemonSet: privileged is broader than needed; use capabilities")
    mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
    for need in ("/host/sys/fs/cgroup", "/host/sys/fs/resctrl", "/sys/fs/bpf", "/var/lib/sloagent", "/run/sloagent"):
        if need not in mounts:
            problems.append(f"DaemonSet: no mount at {need}")
if "ClusterRole" in bundle:
    for rule in bundle["ClusterRole"]["rules"]:
        if "*" in rule.get("verbs", []) or "*" in rule.get("resources", []):
            problems.append(f"ClusterRole: wildcard in {rule}")
if "ConfigMap" in bundle:
    cfg = yaml.safe_load(bundle["ConfigMap"]["data"]["config.yaml"])
    if "clusterStrategy" not in cfg:
        problems.append("ConfigMap config.yaml: no clusterStrategy")

for p in problems:
    print(p)
print(f"checked {checked} CRDs/objects, {len(problems)} problems")
sys.exit(1 if problems else 0)
