"""The HTTP API: ETSI NFV-SOL 003 VNF LCM v2 and SOL005-style VNF package management."""

from vnfm_runner.api.app import create_app

__all__ = ["create_app"]
