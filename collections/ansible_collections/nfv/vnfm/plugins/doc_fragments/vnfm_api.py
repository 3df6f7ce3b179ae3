# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Documentation fragment nfv.vnfm.vnfm_api: how the API client modules reach the VNFM."""

from __future__ import annotations


class ModuleDocFragment:
    # url, username, password, validate_certs: the VNFM REST API connection, defaulting to
    # the environment the AWX credential type injects (awx/credential_types/vnfm_api.yml)
    DOCUMENTATION = r"""
---
options:
  password:
    description:
      - The password of the VNFM's API (HTTP Basic).
      - Defaults to the environment variable C(VNFM_API_PASSWORD).
    type: str
  url:
    description:
      - The VNFM's API, for example C(https://vnfm.example.com:8443).
      - Defaults to the environment variable C(VNFM_URL).
    type: str
  username:
    description:
      - The user of the VNFM's API (HTTP Basic).
      - Defaults to the environment variable C(VNFM_API_USER).
    type: str
  validate_certs:
    description: Whether to check the VNFM's TLS certificate.
    type: bool
    default: true
"""
