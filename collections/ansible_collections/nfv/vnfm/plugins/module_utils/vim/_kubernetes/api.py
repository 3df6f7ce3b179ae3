# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""The Kubernetes API as this driver uses it: a few REST calls over the official client.

Every request goes through :meth:`Api.request`, i.e. ``ApiClient.call_api`` (the
client's HTTP edge, where the unit tests record what is sent). Objects are plain JSON
dicts: the driver never needs the client's models. Writes are server-side apply with
the field manager ``vnfm-toolkit`` (``force``: this VNFM owns what it renders); replica
changes go through the ``scale`` subresource; check mode is a server-side dry run.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from ansible_collections.nfv.vnfm.plugins.module_utils.cnf.render import FIELD_MANAGER
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.base import VimError

# kind -> (API group path, plural)
RESOURCES: dict[str, tuple[str, str]] = {
    "ConfigMap": ("/api/v1", "configmaps"),
    "Secret": ("/api/v1", "secrets"),
    "PersistentVolumeClaim": ("/api/v1", "persistentvolumeclaims"),
    "Service": ("/api/v1", "services"),
    "Pod": ("/api/v1", "pods"),
    "Deployment": ("/apis/apps/v1", "deployments"),
    "StatefulSet": ("/apis/apps/v1", "statefulsets"),
    "ReplicaSet": ("/apis/apps/v1", "replicasets"),
    "DaemonSet": ("/apis/apps/v1", "daemonsets"),
}
SCALABLE = ("Deployment", "StatefulSet", "ReplicaSet")
APPLY = "application/apply-patch+yaml"  # JSON is YAML: the body is JSON
MERGE = "application/merge-patch+json"


class ApiError(VimError):
    """An error answer of the API server (``status``: its HTTP status)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Api:
    """Namespaced REST calls over ``kubernetes.client.ApiClient``."""

    def __init__(self, api_client: Any, namespace: str, request_timeout: float = 30.0) -> None:
        self.client = api_client
        self.namespace = namespace
        self.request_timeout = request_timeout
        self.host = str(api_client.configuration.host).rstrip("/")

    # -- paths -----------------------------------------------------------------------------
    def path(self, kind: str, name: str | None = None, sub: str | None = None) -> str:
        if kind not in RESOURCES:
            raise VimError(f"the Kubernetes VIM does not manage {kind} objects")
        group, plural = RESOURCES[kind]
        out = f"{group}/namespaces/{quote(self.namespace, safe='')}/{plural}"
        if name is not None:
            out += f"/{quote(name, safe='')}"
        if sub:
            out += f"/{sub}"
        return out

    # -- the HTTP edge ----------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        missing_ok: bool = False,
    ) -> dict[str, Any] | None:
        """One call; the decoded JSON answer (None for a 404 when ``missing_ok``)."""
        url = self.host + path + (f"?{urlencode(query)}" if query else "")
        headers = {"Accept": "application/json", "Content-Type": content_type}
        payload = json.dumps(body, sort_keys=True) if body is not None else None
        try:
            resp = self.client.call_api(
                method,
                url,
                header_params=headers,
                body=payload,
                _request_timeout=self.request_timeout,
            )
            status = int(resp.status)
            raw = resp.read() if resp.data is None else resp.data
        except VimError:
            raise
        except Exception as exc:  # the client's own errors (connection, TLS, ApiException)
            status = int(getattr(exc, "status", 0) or 0)
            if status == 0:
                raise VimError(f"Kubernetes API {method} {path}: {exc}") from None
            raw = getattr(exc, "body", b"") or b""
        if status == 404 and missing_ok:
            return None
        if not 200 <= status < 300:
            raise ApiError(
                f"Kubernetes API {method} {path}: HTTP {status}: {_message(raw)}", status
            )
        if not raw:
            return {}
        try:
            decoded = json.loads(raw)
        except ValueError:
            raise VimError(f"Kubernetes API {method} {path}: answer is not JSON") from None
        return decoded if isinstance(decoded, dict) else {}

    # -- the calls the driver makes --------------------------------------------------------------
    def list_all(self, kind: str, selector: str) -> list[dict[str, Any]]:
        """The labelled objects of every namespace (a cluster-wide list; needs that right)."""
        if kind not in RESOURCES:
            raise VimError(f"the Kubernetes VIM does not manage {kind} objects")
        group, plural = RESOURCES[kind]
        answer = self.request("GET", f"{group}/{plural}", query={"labelSelector": selector}) or {}
        out = []
        for item in answer.get("items") or []:
            if isinstance(item, dict):
                item.setdefault("kind", kind)
                out.append(item)
        return out

    def list(self, kind: str, selector: str) -> list[dict[str, Any]]:
        answer = self.request("GET", self.path(kind), query={"labelSelector": selector}) or {}
        items = answer.get("items") or []
        out = []
        for item in items:
            if isinstance(item, dict):
                item.setdefault("kind", kind)  # list items carry no kind
                out.append(item)
        return out

    def label(self, kind: str, name: str, labels: dict[str, str]) -> dict[str, Any]:
        """Set labels of one object (a merge patch: the other labels stay)."""
        return (
            self.request(
                "PATCH",
                self.path(kind, name),
                query={"fieldManager": FIELD_MANAGER},
                body={"metadata": {"labels": labels}},
                content_type=MERGE,
            )
            or {}
        )

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        return self.request("GET", self.path(kind, name), missing_ok=True)

    def apply(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """Server-side apply of one object (created when missing)."""
        query = {"fieldManager": FIELD_MANAGER, "force": "true"}
        if dry_run:
            query["dryRun"] = "All"
        path = self.path(str(obj["kind"]), str(obj["metadata"]["name"]))
        return self.request("PATCH", path, query=query, body=obj, content_type=APPLY) or {}

    def scale(self, kind: str, name: str, replicas: int) -> None:
        """Replicas through the scale subresource (what ``kubectl scale`` does)."""
        if kind not in SCALABLE:
            raise VimError(f"{kind} {name}: a {kind} has no scale subresource")
        self.request(
            "PATCH",
            self.path(kind, name, "scale"),
            query={"fieldManager": FIELD_MANAGER},
            body={"spec": {"replicas": replicas}},
            content_type=MERGE,
        )

    def delete(self, kind: str, name: str, *, grace_seconds: int | None = None) -> None:
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "propagationPolicy": "Background",
        }
        if grace_seconds is not None:
            body["gracePeriodSeconds"] = grace_seconds
        self.request("DELETE", self.path(kind, name), body=body, missing_ok=True)


def _message(raw: Any) -> str:
    """The Status message of an error answer (never the whole body)."""
    try:
        doc = json.loads(raw)
        if isinstance(doc, dict) and doc.get("message"):
            return str(doc["message"])[:500]
    except (TypeError, ValueError):
        pass
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return text[:200] or "no message"


def api_client(vim: dict[str, Any], credentials: dict[str, Any] | None) -> Any:
    """An ``ApiClient`` from a kubeconfig (+ context) or a SOL003 endpoint + bearer token + CA."""
    try:
        from kubernetes import client, config  # the official client, loaded on first use
    except ImportError:
        raise VimError(
            "the Kubernetes VIM needs the 'kubernetes' Python package (pip install kubernetes)"
        ) from None
    creds = dict(credentials or {})
    access = {**(vim.get("accessInfo") or {}), **(creds.get("accessInfo") or creds)}
    interface = {**(vim.get("interfaceInfo") or {}), **(creds.get("interfaceInfo") or {})}
    endpoint = interface.get("endpoint") or vim.get("endpoint")
    if endpoint:
        token = access.get("bearer_token") or access.get("bearerToken") or vim.get("token")
        if not token:
            raise VimError("a Kubernetes VIM given by endpoint needs accessInfo.bearer_token")
        conf = client.Configuration()
        conf.host = str(endpoint)
        conf.api_key = {"authorization": f"Bearer {token}"}
        ca = interface.get("ssl_ca_cert") or interface.get("sslCaCert")
        if ca:
            conf.ssl_ca_cert = _ca_file(str(ca))
        else:
            conf.verify_ssl = True  # the system's CAs; never unverified
        return client.ApiClient(conf)
    conf = client.Configuration()
    try:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=vim.get("kubeconfig") or None,
            context=vim.get("context") or None,
            client_configuration=conf,
        )
    except Exception as exc:  # the loader raises ConfigException, OSError, TypeError...
        raise VimError(f"cannot read the kubeconfig: {exc}") from None
    return client.ApiClient(conf)


def _ca_file(ca: str) -> str:
    """A path for the client: PEM text (SOL003 passes the certificate) goes to a private file."""
    if "-----BEGIN" not in ca:
        return ca
    import os
    import tempfile

    fd, path = tempfile.mkstemp(prefix="vnfm-k8s-ca-", suffix=".pem")
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(ca)
    return path
