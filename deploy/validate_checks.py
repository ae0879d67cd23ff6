"""Project-specific checks of the deploy assets, run by deploy/validate.sh.

The generic validators (schemas, linters, nginx -t, systemd-analyze) check each file on its own;
these check what only this project knows: that every STREAMVAULT_* name is a real setting (the
fields of `Settings` in crates/config/src/settings.rs), that the settings each asset gives a
role pass `streamvault config check` when a built binary is at hand, and that the assets agree
with each other (Service selectors, Ingress backends, nginx upstreams, Garage region, ...).

Usage: python validate_checks.py CHECK [ARGS...]; exits 1 with one line per problem.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_RS = ROOT / "crates/config/src/settings.rs"
KEY_RE = re.compile(r"\bSTREAMVAULT_[A-Z0-9_]*[A-Z0-9]\b")
ROLES = {"api", "stream", "worker", "web"}


class Problems(list):
    def add(self, where: str, what: str) -> None:
        self.append(f"{where}: {what}")


def settings_keys() -> set[str]:
    """STREAMVAULT_<FIELD> for every field of `struct Settings`."""
    text = SETTINGS_RS.read_text()
    body = re.search(r"pub struct Settings \{(.*?)\n\}", text, re.S)
    if not body:
        sys.exit(f"{SETTINGS_RS}: struct Settings not found")
    fields = re.findall(r"^\s+pub ([a-z_][a-z0-9_]*):", body.group(1), re.M)
    return {f"STREAMVAULT_{f.upper()}" for f in fields}


def loc(p: Path | str) -> str:
    """Where a problem is: the file's absolute path, which validate.sh matches on."""
    return str(Path(p).resolve())


# ---- settings ------------------------------------------------------------------------------------


def check_keys(files: list[str], problems: Problems) -> None:
    """Every STREAMVAULT_* name mentioned is a real setting."""
    known = settings_keys()
    for f in files:
        if not Path(f).is_file():
            continue  # validate.sh reports a missing asset itself
        for n, line in enumerate(Path(f).read_text().splitlines(), 1):
            for key in KEY_RE.findall(line):
                if key not in known:
                    problems.add(f"{f}:{n}", f"{key} is not a streamvault setting")


def find_binary() -> Path | None:
    """A built streamvault for `config check`: $SV_BIN (`none`: no config check), else the
    newest in the cargo target dirs."""
    chosen = os.environ.get("SV_BIN")
    if chosen == "none":
        return None
    if chosen:
        if not (Path(chosen).is_file() and os.access(chosen, os.X_OK)):
            sys.exit(f"SV_BIN={chosen} is not an executable")
        return Path(chosen)
    dirs = [os.environ.get("CARGO_TARGET_DIR"), str(Path.home() / ".cache/streamvault-target"), str(ROOT / "target")]
    found = [Path(d) / p / "streamvault" for d in dirs if d for p in ("release", "debug")]
    found = [b for b in found if b.is_file() and os.access(b, os.X_OK)]
    return max(found, key=lambda b: b.stat().st_mtime) if found else None


def config_check(
    binary: Path | None,
    env: dict[str, str],
    where: str,
    problems: Problems,
    sources: dict[str, str] | None = None,
    label: str = "",
) -> None:
    """Runs `streamvault config check` with exactly the STREAMVAULT_* settings of `env`. A
    rejected key is blamed on the file it came from when `sources` says (key -> file)."""
    if binary is None:
        return
    clean = {k: str(v) for k, v in env.items() if k.startswith("STREAMVAULT_")}
    clean["PATH"] = "/usr/bin:/bin"
    r = subprocess.run([str(binary), "config", "check"], env=clean, capture_output=True, text=True)
    if r.returncode != 0:
        message = (r.stderr or r.stdout).strip()
        key = next(iter(KEY_RE.findall(message)), None)
        origin = (sources or {}).get(key or "")
        who = f" for {label}" if label else ""
        if origin:
            problems.add(origin, f"{key}{who}: streamvault config check: {message}")
        else:
            problems.add(where, f"streamvault config check{who}: {message}")


def parse_env_file(path: Path) -> tuple[dict[str, str], list[tuple[int, str, str]]]:
    """KEY=VALUE lines as a dict, and the commented-out `#KEY=VALUE` alternatives."""
    active: dict[str, str] = {}
    alternatives: list[tuple[int, str, str]] = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        s = line.strip()
        if not s:
            continue
        m = re.fullmatch(r"#\s?([A-Z][A-Z0-9_]*)=(\S.*)", s)
        if m:
            alternatives.append((n, m.group(1), m.group(2)))
            continue
        if s.startswith("#"):
            continue
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", s)
        if not m:
            raise ValueError(f"{loc(path)}:{n}: not KEY=VALUE: {s!r}")
        active[m.group(1)] = m.group(2)
    return active, alternatives


def check_envfile(path: str, problems: Problems) -> None:
    """A systemd EnvironmentFile example: its settings, and each commented alternative on top."""
    binary = find_binary()
    try:
        active, alternatives = parse_env_file(Path(path))
    except ValueError as e:
        problems.append(str(e))
        return
    config_check(binary, active, loc(path), problems)
    for n, key, value in alternatives:
        if key.startswith("STREAMVAULT_"):
            config_check(binary, {**active, key: value}, loc(path), problems, label=f"line {n}")


# ---- docker compose -----------------------------------------------------------------------------


def check_compose(config_json: str, compose_file: str, problems: Problems) -> None:
    """`docker compose config --format json` output, checked against the other compose assets."""
    cfg = json.loads(Path(config_json).read_text())
    where = loc(compose_file)
    services = cfg.get("services", {})
    binary = find_binary()
    sv = {n: s for n, s in services.items() if s.get("build") or "streamvault" in str(s.get("image", ""))}
    if not sv:
        problems.add(where, "no streamvault services")
    storage_urls = set()
    for name, svc in sv.items():
        env = svc.get("environment") or {}
        cmd = svc.get("command") or []
        if name == "migrate":
            if cmd != ["migrate"]:
                problems.add(where, f"service migrate runs {cmd}, not ['migrate']")
        else:
            if cmd[:1] != ["serve"]:
                problems.add(where, f"service {name} runs {cmd}, not ['serve']")
            roles = env.get("STREAMVAULT_ROLES", "all")
            if name in ROLES and roles != name:
                problems.add(where, f"service {name} has STREAMVAULT_ROLES={roles}")
            deps = svc.get("depends_on") or {}
            if deps.get("migrate", {}).get("condition") != "service_completed_successfully":
                problems.add(where, f"service {name} does not wait for migrate to complete")
        if env.get("STREAMVAULT_STORAGE_URL"):
            storage_urls.add(env["STREAMVAULT_STORAGE_URL"])
        config_check(binary, env, where, problems, label=f"service {name}")

    # nginx upstreams are compose services, on the port the replicas listen on.
    for svc in services.values():
        for vol in svc.get("volumes") or []:
            if vol.get("type") == "bind" and not Path(vol["source"]).exists():
                problems.add(where, f"bind mount source {vol['source']} does not exist")
            if vol.get("type") == "bind" and vol.get("target") == "/etc/nginx/nginx.conf":
                conf = Path(vol["source"]).read_text()
                for host, port in re.findall(r"^\s*server\s+([A-Za-z0-9._-]+):(\d+)", conf, re.M):
                    if host not in services:
                        problems.add(loc(vol["source"]), f"upstream {host} is not a compose service")
                    elif host in sv:
                        listen = (sv[host].get("environment") or {}).get("STREAMVAULT_LISTEN", "")
                        if not listen.endswith(f":{port}"):
                            problems.add(loc(vol["source"]), f"upstream {host}:{port} but it listens on {listen}")
            if vol.get("type") == "bind" and vol.get("target") == "/etc/garage.toml":
                garage = tomllib.loads(Path(vol["source"]).read_text())
                region = garage.get("s3_api", {}).get("s3_region")
                s3_port = garage.get("s3_api", {}).get("api_bind_addr", "").rsplit(":", 1)[-1]
                for url in storage_urls:
                    u = urlsplit(url)
                    q = parse_qs(u.query)
                    if q.get("region", [None])[0] != region:
                        problems.add(where, f"storage URL region {q.get('region')} is not Garage's s3_region {region}")
                    endpoint = urlsplit(q.get("endpoint", [""])[0])
                    if str(endpoint.port) != s3_port:
                        problems.add(where, f"storage URL endpoint port {endpoint.port} is not Garage's {s3_port}")


def check_garage_toml(path: str, problems: Problems) -> None:
    try:
        g = tomllib.loads(Path(path).read_text())
    except tomllib.TOMLDecodeError as e:
        problems.add(loc(path), f"TOML: {e}")
        return
    for key in ("metadata_dir", "data_dir", "replication_factor", "rpc_bind_addr"):
        if key not in g:
            problems.add(loc(path), f"missing {key}")
    for key in ("s3_region", "api_bind_addr"):
        if key not in g.get("s3_api", {}):
            problems.add(loc(path), f"missing [s3_api] {key}")
    for secret in ("rpc_secret", "admin_token", "metrics_token"):
        if secret in g or secret in g.get("admin", {}):
            problems.add(loc(path), f"{secret} belongs in the environment (.env), not in the file")


# ---- kubernetes ---------------------------------------------------------------------------------


def load_k8s(directory: Path) -> tuple[dict, list[tuple[str, dict]]]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    objs = []
    for res in kustomization.get("resources", []):
        for doc in yaml.safe_load_all((directory / res).read_text()):
            if doc:
                objs.append((loc(directory / res), doc))
    return kustomization, objs


def pod_spec(obj: dict) -> dict | None:
    if obj["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        return obj["spec"]["template"]["spec"]
    return None


def matches(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_k8s(directory: str, problems: Problems) -> None:
    d = Path(directory)
    kustomization, objs = load_k8s(d)
    listed = set(kustomization.get("resources", []))
    on_disk = {p.name for p in d.glob("*.yaml")} - {"kustomization.yaml"}
    for missing in sorted(on_disk - listed):
        problems.add(loc(d / "kustomization.yaml"), f"{missing} is not in resources")
    for absent in sorted(listed - on_disk):
        problems.add(loc(d / "kustomization.yaml"), f"resource {absent} does not exist")

    by_kind: dict[str, dict[str, tuple[str, dict]]] = {}
    for f, o in objs:
        by_kind.setdefault(o["kind"], {})[o["metadata"]["name"]] = (f, o)
        ns = o["metadata"].get("namespace")
        if o["kind"] != "Namespace" and ns != kustomization.get("namespace"):
            problems.add(f, f"{o['kind']}/{o['metadata']['name']} is in namespace {ns}")

    image_names = {i["name"] for i in kustomization.get("images", [])}
    config: dict[str, str] = {}
    sources: dict[str, str] = {}
    for f, cm in by_kind.get("ConfigMap", {}).values():
        config.update(cm.get("data", {}))
        sources.update({k: f for k in cm.get("data", {})})
    for f, sec in by_kind.get("Secret", {}).values():
        config.update(sec.get("stringData", {}))
        sources.update({k: f for k in sec.get("stringData", {})})
    binary = find_binary()
    workloads = {**by_kind.get("Deployment", {}), **by_kind.get("Job", {})}
    for name, (f, o) in workloads.items():
        obj = f"{o['kind']}/{name}"
        spec = pod_spec(o)
        tmpl_labels = o["spec"]["template"]["metadata"].get("labels", {})
        if o["kind"] == "Deployment" and not matches(o["spec"]["selector"]["matchLabels"], tmpl_labels):
            problems.add(f, f"{obj}: selector does not match the pod template's labels")
        psc = spec.get("securityContext", {})
        if not psc.get("runAsNonRoot"):
            problems.add(f, f"{obj}: pod securityContext.runAsNonRoot is not true")
        volumes = {v["name"] for v in spec.get("volumes", [])}
        for c in spec["containers"]:
            csc = c.get("securityContext", {})
            if not csc.get("readOnlyRootFilesystem"):
                problems.add(f, f"{obj}: container {c['name']}: readOnlyRootFilesystem is not true")
            if csc.get("allowPrivilegeEscalation") is not False:
                problems.add(f, f"{obj}: container {c['name']}: allowPrivilegeEscalation is not false")
            if "ALL" not in csc.get("capabilities", {}).get("drop", []):
                problems.add(f, f"{obj}: container {c['name']}: capabilities do not drop ALL")
            if c["image"].split(":")[0] not in image_names:
                problems.add(f, f"{obj}: image {c['image']} is not set by kustomization images")
            if "/data" not in {m["mountPath"] for m in c.get("volumeMounts", [])}:
                problems.add(f, f"{obj}: container {c['name']}: no writable volume at /data")
            for m in c.get("volumeMounts", []):
                if m["name"] not in volumes:
                    problems.add(f, f"{obj}: volumeMount {m['name']} has no volume")
            for ref in c.get("envFrom", []):
                for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                    if key in ref and ref[key]["name"] not in by_kind.get(kind, {}):
                        problems.add(f, f"{obj}: envFrom {kind} {ref[key]['name']} is not defined")
            env = dict(config)
            env.update({e["name"]: e["value"] for e in c.get("env", []) if "value" in e})
            ports = {p.get("name") for p in c.get("ports", [])} | {p["containerPort"] for p in c.get("ports", [])}
            args = c.get("args", [])
            if o["kind"] == "Job":
                if args != ["migrate"]:
                    problems.add(f, f"{obj}: runs {args}, not ['migrate']")
            else:
                component = tmpl_labels.get("app.kubernetes.io/component")
                if args != ["serve"]:
                    problems.add(f, f"{obj}: runs {args}, not ['serve']")
                if env.get("STREAMVAULT_ROLES") != component:
                    problems.add(f, f"{obj}: STREAMVAULT_ROLES={env.get('STREAMVAULT_ROLES')} but component={component}")
                for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                    p = c.get(probe, {}).get("httpGet", {})
                    if p.get("path") != path:
                        problems.add(f, f"{obj}: {probe} is not httpGet {path}")
                    if p and p.get("port") not in ports:
                        problems.add(f, f"{obj}: {probe} port {p.get('port')} is not a container port")
            config_check(binary, env, f, problems, {**sources, **{e["name"]: f for e in c.get("env", [])}}, obj)

    deployments = by_kind.get("Deployment", {})

    def pods_of(selector: dict) -> list[str]:
        return [n for n, (_, o) in deployments.items() if matches(selector, o["spec"]["template"]["metadata"]["labels"])]

    services = by_kind.get("Service", {})
    for name, (f, o) in services.items():
        targets = pods_of(o["spec"].get("selector", {}))
        if not targets:
            problems.add(f, f"Service/{name} selects no Deployment")
        for port in o["spec"]["ports"]:
            for t in targets:
                c_ports = set()
                for c in pod_spec(deployments[t][1])["containers"]:
                    c_ports |= {p.get("name") for p in c.get("ports", [])} | {p["containerPort"] for p in c.get("ports", [])}
                if port.get("targetPort", port["port"]) not in c_ports:
                    problems.add(f, f"Service/{name} targetPort {port.get('targetPort')} is not a port of {t}")
    for name, (f, o) in by_kind.get("Ingress", {}).items():
        for rule in o["spec"].get("rules", []):
            for p in rule.get("http", {}).get("paths", []):
                svc = p["backend"]["service"]
                if svc["name"] not in services:
                    problems.add(f, f"Ingress/{name} path {p['path']} -> unknown Service {svc['name']}")
                    continue
                s_ports = services[svc["name"]][1]["spec"]["ports"]
                want = svc["port"].get("name") or svc["port"].get("number")
                if want not in {sp.get("name") for sp in s_ports} | {sp["port"] for sp in s_ports}:
                    problems.add(f, f"Ingress/{name} path {p['path']} -> {svc['name']} has no port {want}")
    for name, (f, o) in by_kind.get("HorizontalPodAutoscaler", {}).items():
        ref = o["spec"]["scaleTargetRef"]
        if ref["kind"] != "Deployment" or ref["name"] not in deployments:
            problems.add(f, f"HorizontalPodAutoscaler/{name} targets unknown {ref['kind']}/{ref['name']}")
        elif "replicas" in deployments[ref["name"]][1]["spec"]:
            problems.add(f, f"Deployment/{ref['name']} sets replicas although HPA/{name} owns them")
    for name, (f, o) in by_kind.get("PodDisruptionBudget", {}).items():
        if not pods_of(o["spec"]["selector"].get("matchLabels", {})):
            problems.add(f, f"PodDisruptionBudget/{name} selects no Deployment")


# ---- Dockerfile context -------------------------------------------------------------------------


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes; a pattern matching a
    directory matches everything below it."""
    excluded = False
    for pat in patterns:
        neg = pat.startswith("!")
        pat = pat[1:] if neg else pat
        pat = pat.strip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        regex = re.escape(pat).replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
        regex = regex.replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, p) for p in prefixes) or fnmatch(path, pat):
            excluded = not neg
    return excluded


def check_dockerignore(path: str, problems: Problems) -> None:
    lines = [ln.strip() for ln in Path(path).read_text().splitlines()]
    patterns = [ln for ln in lines if ln and not ln.startswith("#")]
    needed = ["Cargo.toml", "Cargo.lock"] + [
        str(p.relative_to(ROOT)) for p in sorted(ROOT.glob("crates/**/Cargo.toml")) if "target" not in p.parts
    ] + ["crates/streamvault/src/main.rs"]
    for n in needed:
        if dockerignore_excludes(patterns, n):
            problems.add(loc(path), f"excludes {n}, which the build needs")
    for unwanted in ("target/release/streamvault", ".git/HEAD", "data/streamvault.db"):
        if not dockerignore_excludes(patterns, unwanted):
            problems.add(loc(path), f"lets {unwanted} into the build context")


def main() -> None:
    check, args = sys.argv[1], sys.argv[2:]
    problems = Problems()
    if check == "keys":
        check_keys(args, problems)
    elif check == "envfile":
        check_envfile(args[0], problems)
    elif check == "compose":
        check_compose(args[0], args[1], problems)
    elif check == "garage-toml":
        check_garage_toml(args[0], problems)
    elif check == "k8s":
        check_k8s(args[0], problems)
    elif check == "dockerignore":
        check_dockerignore(args[0], problems)
    elif check == "binary":
        b = find_binary()
        print(b if b else "")
        return
    else:
        sys.exit(f"unknown check {check}")
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
