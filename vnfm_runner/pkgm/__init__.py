"""SOL005 VNF package management: the service under ``/vnfpkgm/v1`` and ``vnfm package``.

``PackageService`` (service.py) holds the rules: a package resource is created
empty, takes its content (an upload, or a download from a URI: fetch.py), is
onboarded through the LCM service's ``onboard`` and is then read, enabled,
disabled and deleted. Its records are the VnfPkgInfo rows (records.py); the
content it serves is read from the stored package (content.py).
"""

from vnfm_runner.pkgm.service import Onboarder, PackageService

__all__ = ["Onboarder", "PackageService"]
