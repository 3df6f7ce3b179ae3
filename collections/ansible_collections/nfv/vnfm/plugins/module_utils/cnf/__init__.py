# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Containerised VNFs: Kubernetes manifests of a package, and the pure renderer."""
