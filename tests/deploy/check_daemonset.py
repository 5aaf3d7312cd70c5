#!/usr/bin/python3
"""Checks deploy/daemonset.yaml against the fields of the Kubernetes schema it uses
(apps/v1 DaemonSet, v1 Service, core/v1 PodSpec, Container, SecurityContext, Volume) and
against what `ebpf-tool serve` needs: the capabilities of the systemd unit (argv[2]) and no
more, the host bpffs and tracefs mounted, the listen port exposed. Unknown or misspelt
fields fail, as `kubectl apply --validate=strict` would fail them.

Usage: check_daemonset.py deploy/daemonset.yaml deploy/ebpf-tool-serve.service"""
import re
import sys

import yaml

OBJECT = {"apiVersion", "kind", "metadata", "spec"}
METADATA = {"name", "namespace", "labels", "annotations"}
DAEMONSET_SPEC = {"selector", "template", "updateStrategy", "minReadySeconds", "revisionHistoryLimit"}
POD_TEMPLATE = {"metadata", "spec"}
POD_SPEC = {"hostNetwork", "hostPID", "hostIPC", "dnsPolicy", "tolerations", "containers", "initContainers",
            "volumes", "serviceAccountName", "nodeSelector", "priorityClassName", "securityContext",
            "terminationGracePeriodSeconds", "affinity"}
CONTAINER = {"name", "image", "imagePullPolicy", "command", "args", "env", "ports", "securityContext",
             "resources", "readinessProbe", "livenessProbe", "volumeMounts"}
SECURITY_CONTEXT = {"privileged", "allowPrivilegeEscalation", "readOnlyRootFilesystem", "runAsUser",
                    "runAsNonRoot", "runAsGroup", "capabilities", "seccompProfile", "appArmorProfile"}
VOLUME_MOUNT = {"name", "mountPath", "readOnly", "mountPropagation", "subPath"}
VOLUME = {"name", "hostPath"}
HOST_PATH = {"path", "type"}
SERVICE_SPEC = {"clusterIP", "selector", "ports", "type"}
SERVICE_PORT = {"name", "port", "targetPort", "protocol"}
CONTAINER_PORT = {"name", "containerPort", "protocol", "hostPort"}

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def fields(obj, allowed, where, required=()):
    check(isinstance(obj, dict), f"{where}: not a mapping")
    if not isinstance(obj, dict):
        return {}
    for key in obj:
        check(key in allowed, f"{where}: unknown field '{key}'")
    for key in required:
        check(key in obj, f"{where}: missing '{key}'")
    return obj


def unit_capabilities(unit_path):
    """The unit's CapabilityBoundingSet and AmbientCapabilities, which must agree."""
    values = {}
    with open(unit_path) as unit:
        for line in unit:
            m = re.match(r"^(CapabilityBoundingSet|AmbientCapabilities)=(.*)$", line.strip())
            if m:
                values[m.group(1)] = set(m.group(2).split())
    check(values.get("CapabilityBoundingSet") == values.get("AmbientCapabilities"),
          f"unit: CapabilityBoundingSet and AmbientCapabilities differ: {values}")
    return {c.removeprefix("CAP_") for c in values.get("AmbientCapabilities", set())}


def main():
    with open(sys.argv[1]) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    caps = unit_capabilities(sys.argv[2])
    check(caps == {"BPF", "PERFMON"}, f"unit capabilities {sorted(caps)}: serve's default collectors need BPF, PERFMON")
    daemonsets = [d for d in docs if d.get("kind") == "DaemonSet"]
    services = [d for d in docs if d.get("kind") == "Service"]
    check(len(daemonsets) == 1, f"{len(daemonsets)} DaemonSets, want 1")
    check(len(services) == 1, f"{len(services)} Services, want 1")
    if failures:
        return
    ds, svc = daemonsets[0], services[0]

    fields(ds, OBJECT, "DaemonSet", OBJECT)
    check(ds["apiVersion"] == "apps/v1", "DaemonSet: apiVersion must be apps/v1")
    meta = fields(ds["metadata"], METADATA, "DaemonSet.metadata", ("name",))
    spec = fields(ds["spec"], DAEMONSET_SPEC, "DaemonSet.spec", ("selector", "template"))
    match = spec["selector"].get("matchLabels", {})
    check(match, "DaemonSet.spec.selector.matchLabels is empty")
    template = fields(spec["template"], POD_TEMPLATE, "template", ("metadata", "spec"))
    labels = template["metadata"].get("labels", {})
    for key, value in match.items():
        check(labels.get(key) == value, f"selector {key}={value} does not match the template's labels")
    pod = fields(template["spec"], POD_SPEC, "template.spec", ("containers",))
    check(pod.get("hostNetwork") is True, "hostNetwork: the exporter listens on the node's address")
    check(not pod.get("hostPID"), "hostPID is not needed")
    check(not pod.get("hostIPC"), "hostIPC is not needed")

    volumes = {}
    for i, volume in enumerate(pod.get("volumes", [])):
        fields(volume, VOLUME, f"volumes[{i}]", ("name", "hostPath"))
        fields(volume["hostPath"], HOST_PATH, f"volumes[{i}].hostPath", ("path",))
        volumes[volume["name"]] = volume["hostPath"]["path"]

    check(len(pod["containers"]) == 1, "one container")
    container = fields(pod["containers"][0], CONTAINER, "container", ("name", "image", "args"))
    args = container["args"]
    check(args[0] == "serve", "the container runs `ebpf-tool serve`")
    listen = args[args.index("--listen") + 1] if "--listen" in args else ""
    check(re.fullmatch(r"\$\(NODE_IP\):9435", listen) is not None, f"--listen {listen}: want $(NODE_IP):9435")
    env = {e["name"]: e for e in container.get("env", [])}
    check(env.get("NODE_IP", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "status.hostIP",
          "NODE_IP comes from status.hostIP")
    ports = [fields(p, CONTAINER_PORT, "container port", ("containerPort",)) for p in container.get("ports", [])]
    check([p["containerPort"] for p in ports] == [9435], "container port 9435")

    sc = fields(container["securityContext"], SECURITY_CONTEXT, "securityContext")
    check(sc.get("privileged") is False, "privileged must be false")
    check(sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation must be false")
    check(sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem must be true")
    capabilities = sc.get("capabilities", {})
    check(capabilities.get("drop") == ["ALL"], "capabilities.drop must be [ALL]")
    check(set(capabilities.get("add", [])) == caps,
          f"capabilities.add {capabilities.get('add')} must be the unit's {sorted(caps)}")

    mounts = {}
    for i, mount in enumerate(container.get("volumeMounts", [])):
        fields(mount, VOLUME_MOUNT, f"volumeMounts[{i}]", ("name", "mountPath"))
        check(mount["name"] in volumes, f"volumeMounts[{i}]: no volume named {mount['name']}")
        check(mount.get("readOnly") is True, f"volumeMounts[{i}]: serve only reads: readOnly")
        mounts[mount["mountPath"]] = volumes.get(mount["name"])
    check(mounts.get("/sys/fs/bpf") == "/sys/fs/bpf", "the host's bpffs at /sys/fs/bpf")
    check(mounts.get("/sys/kernel/tracing") == "/sys/kernel/tracing", "the host's tracefs at /sys/kernel/tracing")

    fields(svc, OBJECT, "Service", OBJECT)
    check(svc["apiVersion"] == "v1", "Service: apiVersion v1")
    check(svc["metadata"].get("namespace") == meta.get("namespace"), "Service and DaemonSet in one namespace")
    sspec = fields(svc["spec"], SERVICE_SPEC, "Service.spec", ("selector", "ports"))
    check(sspec.get("clusterIP") == "None", "the Service is headless (one DNS record per pod)")
    check(sspec["selector"] == match, "the Service selects the DaemonSet's pods")
    for p in sspec["ports"]:
        fields(p, SERVICE_PORT, "Service port", ("port",))
        check(p["port"] == 9435, "Service port 9435")


if __name__ == "__main__":
    main()
    for failure in failures:
        print(f"daemonset.yaml: {failure}", file=sys.stderr)
    sys.exit(1 if failures else 0)
