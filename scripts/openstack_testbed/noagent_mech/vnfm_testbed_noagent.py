"""ML2 mechanism driver of the OpenStack test bed: binds every port, on any host, with no agent.

The test bed has no data plane, so nothing would ever bind a port and Nova would put every
server into ERROR ("binding_failed"). Neutron's in-tree test drivers don't fit: ``test`` binds
only hard-coded host names and asserts on re-binds, ``fake_agent`` needs agents to report.
"""

from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api


class NoAgentMechanismDriver(api.MechanismDriver):
    def initialize(self):
        pass

    @property
    def connectivity(self):
        return portbindings.CONNECTIVITY_L2

    def bind_port(self, context):
        # vif_type ovs is what a real OVS deployment returns; the fake virt driver ignores it
        # but clients (and our VIM driver) see a realistic binding.
        for segment in context.segments_to_bind:
            context.set_binding(
                segment[api.ID],
                portbindings.VIF_TYPE_OVS,
                {portbindings.CAP_PORT_FILTER: True, portbindings.OVS_HYBRID_PLUG: False},
                status=constants.PORT_STATUS_ACTIVE,
            )
            return
