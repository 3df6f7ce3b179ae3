# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Offline catalogue of the TOSCA and ETSI NFV SOL001 normative types.

VNF packages import ``etsi_nfv_sol001_common_types.yaml`` and
``etsi_nfv_sol001_vnfd_types.yaml`` (by bare name, relative path or ETSI forge
URL) and usually do not ship them; every service template also implicitly
imports the TOSCA Simple Profile base types. This module answers those
imports without network access.

The definitions below were written for this project from ETSI GS NFV-SOL 001
and the OASIS TOSCA Simple Profile in YAML 1.3: type, property and keyword
names, defaults, constraints and derivations follow the specifications; the
descriptions and the layout are our own.

One content serves every SOL001 release in :data:`KNOWN_VERSIONS`. The base
is v2.6.1; the additions of later releases are folded in (see the comment
above :data:`_SOL001_VNFD`). Where releases disagree on a property's type,
the v2.6.1 form is declared and the property is listed in
:data:`VERSION_DEPENDENT_PROPERTIES` so that validators can be lenient.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "COMMON_TYPES",
    "KNOWN_VERSIONS",
    "VERSION_DEPENDENT_PROPERTIES",
    "VNFD_TYPES",
    "catalogue_document",
    "normative_import",
    "tosca_base_document",
]

#: SOL001 releases whose common/VNFD type files this catalogue stands in for.
KNOWN_VERSIONS: tuple[str, ...] = (
    "2.5.1",
    "2.6.1",
    "2.7.1",
    "2.8.1",
    "3.3.1",
    "3.5.1",
    "3.6.1",
    "4.2.1",
    "4.3.1",
    "4.4.1",
    "4.5.1",
)

COMMON_TYPES = "etsi_nfv_sol001_common_types.yaml"
VNFD_TYPES = "etsi_nfv_sol001_vnfd_types.yaml"

#: Properties whose declared type changed between SOL001 releases. The
#: catalogue declares the v2.x type; values of the later form (noted here)
#: are legitimate too. Keyed by owning type, then property name.
VERSION_DEPENDENT_PROPERTIES: dict[str, dict[str, str]] = {
    "tosca.nodes.nfv.VNF": {
        "monitoring_parameters": "v2.x list; later releases a map keyed by parameter id",
    },
    "tosca.nodes.nfv.Vdu.Compute": {
        "boot_order": "v2.x list of node template names; later releases a boolean (default false)",
        "nfvi_constraints": "v2.x list of strings; later releases a map of strings",
        "monitoring_parameters": "v2.x list; later releases a map keyed by parameter id",
        "boot_data": "v2.x string (content or package path); later releases tosca.datatypes.nfv.BootData",
    },
    "tosca.nodes.nfv.VnfVirtualLink": {
        "monitoring_parameters": "v2.x list; later releases a map keyed by parameter id",
    },
}

# ---------------------------------------------------------------------------
# TOSCA Simple Profile in YAML 1.3: the implicitly imported base types that
# the SOL001 types build on. Scalar-unit and other primitive types are
# built into the grammar and have no definition here.
# ---------------------------------------------------------------------------
_TOSCA_SIMPLE_PROFILE = """\
tosca_definitions_version: tosca_simple_yaml_1_3
description: TOSCA Simple Profile 1.3 normative base types (vnfm-toolkit catalogue).
metadata:
  template_name: tosca_simple_profile_base_types
  template_author: vnfm-toolkit
  template_version: "1.3"

data_types:
  tosca.datatypes.Root:
    description: Ancestor of all TOSCA data types.

  tosca.datatypes.Credential:
    derived_from: tosca.datatypes.Root
    description: Authentication material for reaching a resource.
    properties:
      protocol:
        type: string
        required: false
      token_type:
        type: string
        default: password
      token:
        type: string
      keys:
        type: map
        required: false
        entry_schema:
          type: string
      user:
        type: string
        required: false

  tosca.datatypes.TimeInterval:
    derived_from: tosca.datatypes.Root
    description: A span of time given by its start and end.
    properties:
      start_time:
        type: timestamp
      end_time:
        type: timestamp

  tosca.datatypes.network.NetworkInfo:
    derived_from: tosca.datatypes.Root
    description: Runtime facts about a network a node is connected to.
    properties:
      network_name:
        type: string
        required: false
      network_id:
        type: string
        required: false
      addresses:
        type: list
        required: false
        entry_schema:
          type: string

  tosca.datatypes.network.PortInfo:
    derived_from: tosca.datatypes.Root
    description: Runtime facts about a port of a node.
    properties:
      port_name:
        type: string
        required: false
      port_id:
        type: string
        required: false
      network_id:
        type: string
        required: false
      mac_address:
        type: string
        required: false
      addresses:
        type: list
        required: false
        entry_schema:
          type: string

  tosca.datatypes.network.PortDef:
    derived_from: integer
    description: A TCP/UDP port number.
    constraints:
      - in_range: [1, 65535]

  tosca.datatypes.network.PortSpec:
    derived_from: tosca.datatypes.Root
    description: A port, or range of ports, on the source and target of a connection.
    properties:
      protocol:
        type: string
        default: tcp
        constraints:
          - valid_values: [udp, tcp, igmp]
      source:
        type: tosca.datatypes.network.PortDef
        required: false
      source_range:
        type: range
        required: false
        constraints:
          - in_range: [1, 65535]
      target:
        type: tosca.datatypes.network.PortDef
        required: false
      target_range:
        type: range
        required: false
        constraints:
          - in_range: [1, 65535]

artifact_types:
  tosca.artifacts.Root:
    description: Ancestor of all TOSCA artifact types.

  tosca.artifacts.File:
    derived_from: tosca.artifacts.Root
    description: A plain file.

  tosca.artifacts.Deployment:
    derived_from: tosca.artifacts.Root
    description: An artifact that is deployed (for example an image or package).

  tosca.artifacts.Deployment.Image:
    derived_from: tosca.artifacts.Deployment
    description: An image deployed onto a host.

  tosca.artifacts.Deployment.Image.VM:
    derived_from: tosca.artifacts.Deployment.Image
    description: A virtual machine image.

  tosca.artifacts.Implementation:
    derived_from: tosca.artifacts.Root
    description: The code that implements an operation.

  tosca.artifacts.Implementation.Bash:
    derived_from: tosca.artifacts.Implementation
    description: A Bash script implementing an operation.
    mime_type: application/x-sh
    file_ext: [sh]

  tosca.artifacts.Implementation.Python:
    derived_from: tosca.artifacts.Implementation
    description: A Python script implementing an operation.
    mime_type: application/x-python
    file_ext: [py]

  tosca.artifacts.template:
    derived_from: tosca.artifacts.Root
    description: A template to be rendered before use.

capability_types:
  tosca.capabilities.Root:
    description: Ancestor of all TOSCA capability types.

  tosca.capabilities.Node:
    derived_from: tosca.capabilities.Root
    description: The generic "this node can be depended upon" capability.

  tosca.capabilities.Container:
    derived_from: tosca.capabilities.Root
    description: The node can host other nodes.

  tosca.capabilities.Compute:
    derived_from: tosca.capabilities.Container
    description: The node can host software and offers compute resources.
    properties:
      name:
        type: string
        required: false
      num_cpus:
        type: integer
        required: false
        constraints:
          - greater_or_equal: 1
      cpu_frequency:
        type: scalar-unit.frequency
        required: false
        constraints:
          - greater_or_equal: 0.1 GHz
      disk_size:
        type: scalar-unit.size
        required: false
        constraints:
          - greater_or_equal: 0 MB
      mem_size:
        type: scalar-unit.size
        required: false
        constraints:
          - greater_or_equal: 0 MB

  tosca.capabilities.Network:
    derived_from: tosca.capabilities.Root
    description: The node offers a network.
    properties:
      name:
        type: string
        required: false

  tosca.capabilities.Storage:
    derived_from: tosca.capabilities.Root
    description: The node offers storage.
    properties:
      name:
        type: string
        required: false

  tosca.capabilities.Endpoint:
    derived_from: tosca.capabilities.Root
    description: A network endpoint the node exposes.
    properties:
      protocol:
        type: string
        default: tcp
      port:
        type: tosca.datatypes.network.PortDef
        required: false
      secure:
        type: boolean
        required: false
        default: false
      url_path:
        type: string
        required: false
      port_name:
        type: string
        required: false
      network_name:
        type: string
        required: false
        default: PRIVATE
      initiator:
        type: string
        default: source
        constraints:
          - valid_values: [source, target, peer]
      ports:
        type: map
        required: false
        constraints:
          - min_length: 1
        entry_schema:
          type: tosca.datatypes.network.PortSpec
    attributes:
      ip_address:
        type: string

  tosca.capabilities.Endpoint.Public:
    derived_from: tosca.capabilities.Endpoint
    description: An endpoint reachable from public networks.
    properties:
      network_name:
        type: string
        default: PUBLIC
        constraints:
          - equal: PUBLIC
      floating:
        type: boolean
        default: false
      dns_name:
        type: string
        required: false

  tosca.capabilities.Endpoint.Admin:
    derived_from: tosca.capabilities.Endpoint
    description: An administrative endpoint, always secured.
    properties:
      secure:
        type: boolean
        default: true
        constraints:
          - equal: true

  tosca.capabilities.Endpoint.Database:
    derived_from: tosca.capabilities.Endpoint
    description: An endpoint of a database.

  tosca.capabilities.Attachment:
    derived_from: tosca.capabilities.Root
    description: The node (for example a volume) can be attached to another.

  tosca.capabilities.OperatingSystem:
    derived_from: tosca.capabilities.Root
    description: The operating system the node provides.
    properties:
      architecture:
        type: string
        required: false
      type:
        type: string
        required: false
      distribution:
        type: string
        required: false
      version:
        type: version
        required: false

  tosca.capabilities.Scalable:
    derived_from: tosca.capabilities.Root
    description: The node can be instantiated several times.
    properties:
      min_instances:
        type: integer
        default: 1
      max_instances:
        type: integer
        default: 1
      default_instances:
        type: integer
        required: false

  tosca.capabilities.network.Bindable:
    derived_from: tosca.capabilities.Node
    description: A network port can be bound to the node.

  tosca.capabilities.network.Linkable:
    derived_from: tosca.capabilities.Node
    description: A network port can be linked to the node.

interface_types:
  tosca.interfaces.Root:
    description: Ancestor of all TOSCA interface types.

  tosca.interfaces.node.lifecycle.Standard:
    derived_from: tosca.interfaces.Root
    description: The normative node lifecycle.
    operations:
      create:
        description: Bring the node into existence.
      configure:
        description: Configure the created node.
      start:
        description: Start the node.
      stop:
        description: Stop the node.
      delete:
        description: Remove the node.

  tosca.interfaces.relationship.Configure:
    derived_from: tosca.interfaces.Root
    description: The normative relationship configuration steps.
    operations:
      pre_configure_source:
        description: Runs before the source node is configured.
      pre_configure_target:
        description: Runs before the target node is configured.
      post_configure_source:
        description: Runs after the source node is configured.
      post_configure_target:
        description: Runs after the target node is configured.
      add_target:
        description: A target instance was added.
      add_source:
        description: A source instance was added.
      target_changed:
        description: A target instance changed.
      remove_target:
        description: A target instance was removed.
      remove_source:
        description: A source instance was removed.

relationship_types:
  tosca.relationships.Root:
    description: Ancestor of all TOSCA relationship types.
    attributes:
      tosca_id:
        type: string
      tosca_name:
        type: string
      state:
        type: string
    interfaces:
      Configure:
        type: tosca.interfaces.relationship.Configure

  tosca.relationships.DependsOn:
    derived_from: tosca.relationships.Root
    description: The source needs the target.
    valid_target_types: [tosca.capabilities.Node]

  tosca.relationships.HostedOn:
    derived_from: tosca.relationships.Root
    description: The source runs on the target.
    valid_target_types: [tosca.capabilities.Container]

  tosca.relationships.ConnectsTo:
    derived_from: tosca.relationships.Root
    description: The source connects to an endpoint of the target.
    valid_target_types: [tosca.capabilities.Endpoint]
    properties:
      credential:
        type: tosca.datatypes.Credential
        required: false

  tosca.relationships.AttachesTo:
    derived_from: tosca.relationships.Root
    description: The source (for example a volume) is attached to the target.
    valid_target_types: [tosca.capabilities.Attachment]
    properties:
      location:
        type: string
        constraints:
          - min_length: 1
      device:
        type: string
        required: false

  tosca.relationships.RoutesTo:
    derived_from: tosca.relationships.ConnectsTo
    description: Traffic from the source is routed to the target endpoint.
    valid_target_types: [tosca.capabilities.Endpoint]

  tosca.relationships.network.LinksTo:
    derived_from: tosca.relationships.DependsOn
    description: A port is linked to a network.
    valid_target_types: [tosca.capabilities.network.Linkable]

  tosca.relationships.network.BindsTo:
    derived_from: tosca.relationships.DependsOn
    description: A port is bound to a compute node.
    valid_target_types: [tosca.capabilities.network.Bindable]

node_types:
  tosca.nodes.Root:
    description: Ancestor of all TOSCA node types.
    attributes:
      tosca_id:
        type: string
      tosca_name:
        type: string
      state:
        type: string
    capabilities:
      feature:
        type: tosca.capabilities.Node
    requirements:
      - dependency:
          capability: tosca.capabilities.Node
          node: tosca.nodes.Root
          relationship: tosca.relationships.DependsOn
          occurrences: [0, UNBOUNDED]
    interfaces:
      Standard:
        type: tosca.interfaces.node.lifecycle.Standard

  tosca.nodes.Abstract.Compute:
    derived_from: tosca.nodes.Root
    description: Compute resources described independently of how they are provided.
    capabilities:
      host:
        type: tosca.capabilities.Compute
        valid_source_types: []

  tosca.nodes.Compute:
    derived_from: tosca.nodes.Abstract.Compute
    description: A server (physical or virtual) with an operating system.
    attributes:
      private_address:
        type: string
      public_address:
        type: string
      networks:
        type: map
        entry_schema:
          type: tosca.datatypes.network.NetworkInfo
      ports:
        type: map
        entry_schema:
          type: tosca.datatypes.network.PortInfo
    requirements:
      - local_storage:
          capability: tosca.capabilities.Attachment
          node: tosca.nodes.Storage.BlockStorage
          relationship: tosca.relationships.AttachesTo
          occurrences: [0, UNBOUNDED]
    capabilities:
      host:
        type: tosca.capabilities.Compute
        valid_source_types: [tosca.nodes.SoftwareComponent]
      endpoint:
        type: tosca.capabilities.Endpoint.Admin
      os:
        type: tosca.capabilities.OperatingSystem
      scalable:
        type: tosca.capabilities.Scalable
      binding:
        type: tosca.capabilities.network.Bindable

  tosca.nodes.SoftwareComponent:
    derived_from: tosca.nodes.Root
    description: Software hosted on a Compute node.
    properties:
      component_version:
        type: version
        required: false
      admin_credential:
        type: tosca.datatypes.Credential
        required: false
    requirements:
      - host:
          capability: tosca.capabilities.Compute
          node: tosca.nodes.Compute
          relationship: tosca.relationships.HostedOn

  tosca.nodes.Abstract.Storage:
    derived_from: tosca.nodes.Root
    description: Storage described independently of how it is provided.
    properties:
      name:
        type: string
      size:
        type: scalar-unit.size
        default: 0 MB
        constraints:
          - greater_or_equal: 0 MB

  tosca.nodes.Storage.BlockStorage:
    derived_from: tosca.nodes.Abstract.Storage
    description: A block storage volume that can be attached to a Compute node.
    properties:
      volume_id:
        type: string
        required: false
      snapshot_id:
        type: string
        required: false
    capabilities:
      attachment:
        type: tosca.capabilities.Attachment

  tosca.nodes.Storage.ObjectStorage:
    derived_from: tosca.nodes.Abstract.Storage
    description: An object store reached through an endpoint.
    properties:
      maxsize:
        type: scalar-unit.size
        required: false
        constraints:
          - greater_or_equal: 0 GB
    capabilities:
      storage_endpoint:
        type: tosca.capabilities.Endpoint

  tosca.nodes.network.Network:
    derived_from: tosca.nodes.Root
    description: A simple logical network.
    properties:
      ip_version:
        type: integer
        required: false
        default: 4
        constraints:
          - valid_values: [4, 6]
      cidr:
        type: string
        required: false
      start_ip:
        type: string
        required: false
      end_ip:
        type: string
        required: false
      gateway_ip:
        type: string
        required: false
      network_name:
        type: string
        required: false
      network_id:
        type: string
        required: false
      segmentation_id:
        type: string
        required: false
      network_type:
        type: string
        required: false
      physical_network:
        type: string
        required: false
      dhcp_enabled:
        type: boolean
        required: false
        default: true
    capabilities:
      link:
        type: tosca.capabilities.network.Linkable

  tosca.nodes.network.Port:
    derived_from: tosca.nodes.Root
    description: A network port, linked to a network and bound to a compute node.
    properties:
      ip_address:
        type: string
        required: false
      order:
        type: integer
        default: 0
        constraints:
          - greater_or_equal: 0
      is_default:
        type: boolean
        required: false
        default: false
      ip_range_start:
        type: string
        required: false
      ip_range_end:
        type: string
        required: false
    requirements:
      - link:
          capability: tosca.capabilities.network.Linkable
          relationship: tosca.relationships.network.LinksTo
      - binding:
          capability: tosca.capabilities.network.Bindable
          relationship: tosca.relationships.network.BindsTo

group_types:
  tosca.groups.Root:
    description: Ancestor of all TOSCA group types.
    interfaces:
      Standard:
        type: tosca.interfaces.node.lifecycle.Standard

policy_types:
  tosca.policies.Root:
    description: Ancestor of all TOSCA policy types.

  tosca.policies.Placement:
    derived_from: tosca.policies.Root
    description: Where the targets may be placed.

  tosca.policies.Scaling:
    derived_from: tosca.policies.Root
    description: How the targets may be scaled.

  tosca.policies.Update:
    derived_from: tosca.policies.Root
    description: How the targets may be updated.

  tosca.policies.Performance:
    derived_from: tosca.policies.Root
    description: Performance requirements of the targets.
"""

# ---------------------------------------------------------------------------
# etsi_nfv_sol001_common_types.yaml
#
# Types shared by VNFD, NSD and PNFD. Placement follows the later releases:
# ScaleInfo, VnfMonitoringParameter and the abstract security group rule live
# here (v2.6.1 had the first two in the VNFD file); the VNFD document
# imports this one, so a VNFD sees them either way.
# ---------------------------------------------------------------------------
_SOL001_COMMON = """\
tosca_definitions_version: tosca_simple_yaml_1_3
description: ETSI NFV SOL001 common types (vnfm-toolkit offline catalogue).
metadata:
  template_name: etsi_nfv_sol001_common_types
  template_author: vnfm-toolkit
  template_version: 4.5.1

data_types:
  tosca.datatypes.nfv.L2AddressData:
    derived_from: tosca.datatypes.Root
    description: How MAC addresses are assigned to a connection point.
    properties:
      mac_address_assignment:
        type: boolean
        description: True when NFV-MANO supplies the MAC address, false when the VNF does.

  tosca.datatypes.nfv.L3AddressData:
    derived_from: tosca.datatypes.Root
    description: How IP addresses are assigned to a connection point.
    properties:
      ip_address_assignment:
        type: boolean
        description: True when NFV-MANO supplies the IP configuration (mandatory in v2.x).
        required: false
      ip_address_assignment_subtype:
        type: string
        description: Who assigns the address when NFV-MANO does not.
        required: false
        constraints:
          - valid_values: [dynamic, vnf_pkg, external]
      floating_ip_activated:
        type: boolean
        description: Whether a floating IP is used on the connection point.
      ip_address_type:
        type: string
        description: IP version of the addresses to assign.
        required: false
        constraints:
          - valid_values: [ipv4, ipv6]
      number_of_ip_address:
        type: integer
        description: Minimum number of addresses to assign.
        required: false
        constraints:
          - greater_than: 0
      fixed_ip_address:
        type: list
        description: Fixed addresses for an internal connection point.
        required: false
        entry_schema:
          type: string

  tosca.datatypes.nfv.AddressData:
    derived_from: tosca.datatypes.Root
    description: Addressing scheme of a connection point.
    properties:
      address_type:
        type: string
        description: Kind of address to assign.
        constraints:
          - valid_values: [mac_address, ip_address]
      l2_address_data:
        type: tosca.datatypes.nfv.L2AddressData
        description: MAC address assignment, for mac_address.
        required: false
      l3_address_data:
        type: tosca.datatypes.nfv.L3AddressData
        description: IP address assignment, for ip_address.
        required: false

  tosca.datatypes.nfv.ConnectivityType:
    derived_from: tosca.datatypes.Root
    description: Protocols and flow pattern of a virtual link.
    properties:
      layer_protocols:
        type: list
        description: Protocols the link gives access to, the top layer always included.
        entry_schema:
          type: string
          constraints:
            - valid_values: [ethernet, mpls, odu2, ipv4, ipv6, pseudo-wire]
      flow_pattern:
        type: string
        description: Topology of the connectivity.
        required: false
        constraints:
          - valid_values: [line, tree, mesh]

  tosca.datatypes.nfv.LinkBitrateRequirements:
    derived_from: tosca.datatypes.Root
    description: Throughput needed on a virtual link, in bits per second.
    properties:
      root:
        type: integer
        description: Throughput of the link as a whole (or of its root).
        constraints:
          - greater_or_equal: 0
      leaf:
        type: integer
        description: Throughput of leaf connections, where the topology has leaves.
        required: false
        constraints:
          - greater_or_equal: 0

  tosca.datatypes.nfv.CpProtocolData:
    derived_from: tosca.datatypes.Root
    description: A protocol layer of a connection point and its addressing.
    properties:
      associated_layer_protocol:
        type: string
        description: One of the layer_protocols of the connection point.
        constraints:
          - valid_values: [ethernet, mpls, odu2, ipv4, ipv6, pseudo-wire]
      address_data:
        type: list
        description: Addresses to assign on this layer.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.AddressData

  tosca.datatypes.nfv.VnfProfile:
    derived_from: tosca.datatypes.Root
    description: How a VNF is instantiated within an NS deployment flavour.
    properties:
      instantiation_level:
        type: string
        description: Instantiation level to use; the VNFD default when absent.
        required: false
      target_vnf_scale_level_info:
        type: map
        description: Scale level per aspect to instantiate with.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.ScaleInfo
      min_number_of_instances:
        type: integer
        description: Fewest VNF instances allowed for this profile.
        constraints:
          - greater_or_equal: 0
      max_number_of_instances:
        type: integer
        description: Most VNF instances allowed for this profile.
        constraints:
          - greater_or_equal: 0
      service_availability_level:
        type: integer
        description: Service availability level of the instances.
        required: false
        constraints:
          - greater_or_equal: 1
      version_dependency:
        type: list
        description: Descriptor versions of other NS constituents this VNF depends on.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.VersionDependency

  tosca.datatypes.nfv.Qos:
    derived_from: tosca.datatypes.Root
    description: Quality of service of a virtual link.
    properties:
      latency:
        type: scalar-unit.time
        description: Highest acceptable latency.
        constraints:
          - greater_than: 0 s
      packet_delay_variation:
        type: scalar-unit.time
        description: Highest acceptable jitter.
        constraints:
          - greater_or_equal: 0 s
      packet_loss_ratio:
        type: float
        description: Highest acceptable share of lost packets.
        required: false
        constraints:
          - in_range: [0.0, 1.0]

  tosca.datatypes.nfv.ScaleInfo:
    derived_from: tosca.datatypes.Root
    description: The scale level of one scaling aspect.
    properties:
      scale_level:
        type: integer
        description: Scale level of the aspect.
        constraints:
          - greater_or_equal: 0

  tosca.datatypes.nfv.VnfMonitoringParameter:
    derived_from: tosca.datatypes.Root
    description: A VNF-level virtualised resource metric to monitor.
    properties:
      name:
        type: string
        description: Readable name of the parameter.
      performance_metric:
        type: string
        description: Metric to monitor (ETSI GS NFV-IFA 027 names).
        constraints:
          - valid_values:
              - v_cpu_usage_mean_vnf
              - v_cpu_usage_peak_vnf
              - v_memory_usage_mean_vnf
              - v_memory_usage_peak_vnf
              - v_disk_usage_mean_vnf
              - v_disk_usage_peak_vnf
              - byte_incoming_vnf_ext_cp
              - byte_outgoing_vnf_ext_cp
              - packet_incoming_vnf_ext_cp
              - packet_outgoing_vnf_ext_cp
      collection_period:
        type: scalar-unit.time
        description: How often the metric is collected.
        required: false
        constraints:
          - greater_than: 0 s

  tosca.datatypes.nfv.VersionDependency:
    derived_from: tosca.datatypes.Root
    description: Versions of other NS constituents one constituent depends on.
    properties:
      dependent_constituent_id:
        type: string
        description: The constituent that has the dependency.
      version_dependency_statement:
        type: list
        description: The dependencies, each satisfied by any of its descriptors.
        entry_schema:
          type: tosca.datatypes.nfv.VersionDependencyStatement

  tosca.datatypes.nfv.VersionDependencyStatement:
    derived_from: tosca.datatypes.Root
    description: One dependency, given as alternative descriptor identifiers.
    properties:
      descriptor_id:
        type: list
        description: Descriptor identifiers, any of which fulfils the dependency.
        entry_schema:
          type: string

capability_types:
  tosca.capabilities.nfv.VirtualLinkable:
    derived_from: tosca.capabilities.Node
    description: The node can be the target of a VirtualLinksTo relationship.

relationship_types:
  tosca.relationships.nfv.VirtualLinksTo:
    derived_from: tosca.relationships.DependsOn
    description: Connects a connection point to a virtual link.
    valid_target_types: [tosca.capabilities.nfv.VirtualLinkable]

  tosca.relationships.nfv.VipVirtualLinksTo:
    derived_from: tosca.relationships.DependsOn
    description: Connects a virtual IP connection point to a virtual link.
    valid_target_types: [tosca.capabilities.nfv.VirtualLinkable]

node_types:
  tosca.nodes.nfv.Cp:
    derived_from: tosca.nodes.Root
    description: Common base of connection points.
    properties:
      layer_protocols:
        type: list
        description: Protocols the connection point uses.
        entry_schema:
          type: string
          constraints:
            - valid_values: [ethernet, mpls, odu2, ipv4, ipv6, pseudo-wire]
      ip_stack_mode:
        type: string
        description: Dual-stack or tunnelling support.
        required: false
        constraints:
          - valid_values: [ipv4_xor_ipv6, ipv4_or_ipv6, tunnel_ipv6_over_ipv4, tunnel_ipv4_over_ipv6]
      role:
        type: string
        description: Role of the port in the traffic flow pattern.
        required: false
        constraints:
          - valid_values: [root, leaf]
      description:
        type: string
        description: Readable purpose of the connection point.
        required: false
      protocol:
        type: list
        description: Per-protocol addressing of the connection point.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.CpProtocolData
      trunk_mode:
        type: boolean
        description: Whether the port is a trunk carrying several VLANs; false when absent.
        required: false

policy_types:
  tosca.policies.nfv.Abstract.SecurityGroupRule:
    derived_from: tosca.policies.Root
    description: Traffic matching criteria of a security group rule, without targets.
    properties:
      description:
        type: string
        description: Readable description of the rule.
        required: false
      direction:
        type: string
        description: Traffic direction relative to the connection point.
        required: false
        default: ingress
        constraints:
          - valid_values: [ingress, egress]
      ether_type:
        type: string
        description: Protocol carried over Ethernet.
        required: false
        default: ipv4
        constraints:
          - valid_values: [ipv4, ipv6]
      protocol:
        type: string
        description: Protocol carried over IP (IANA protocol registry names).
        required: false
        default: tcp
        constraints:
          - valid_values: [hopopt, icmp, igmp, ggp, ipv4, st, tcp, cbt, egp, igp, bbn_rcc_mon, nvp_ii, pup, argus,
              emcon, xnet, chaos, udp, mux, dcn_meas, hmp, prm, xns_idp, trunk_1, trunk_2, leaf_1, leaf_2, rdp, irtp,
              iso_tp4, netblt, mfe_nsp, merit_inp, dccp, 3pc, idpr, xtp, ddp, idpr_cmtp, tp++, il, ipv6, sdrp,
              ipv6_route, ipv6_frag, idrp, rsvp, gre, dsr, bna, esp, ah, i_nlsp, swipe, narp, mobile, tlsp, skip,
              ipv6_icmp, ipv6_no_nxt, ipv6_opts, cftp, sat_expak, kryptolan, rvd, ippc, sat_mon, visa, ipcv, cpnx,
              cphb, wsn, pvp, br_sat_mon, sun_nd, wb_mon, wb_expak, iso_ip, vmtp, secure_vmtp, vines, ttp, iptm,
              nsfnet_igp, dgp, tcf, eigrp, ospfigp, sprite_rpc, larp, mtp, ax.25, ipip, micp, scc_sp, etherip, encap,
              gmtp, ifmp, pnni, pim, aris, scps, qnx, a/n, ip_comp, snp, compaq_peer, ipx_in_ip, vrrp, pgm, l2tp, ddx,
              iatp, stp, srp, uti, smp, sm, ptp, isis, fire, crtp, crudp, sscopmce, iplt, sps, pipe, sctp, fc,
              rsvp_e2e_ignore, mobility, udp_lite, mpls_in_ip, manet, hip, shim6, wesp, rohc]
      port_range_min:
        type: integer
        description: Lowest matched port.
        required: false
        default: 0
        constraints:
          - greater_or_equal: 0
          - less_or_equal: 65535
      port_range_max:
        type: integer
        description: Highest matched port.
        required: false
        default: 65535
        constraints:
          - greater_or_equal: 0
          - less_or_equal: 65535
"""

# ---------------------------------------------------------------------------
# etsi_nfv_sol001_vnfd_types.yaml
#
# Base: SOL001 v2.6.1. Folded-in additions of later releases (v2.7.1 to
# v4.5.1):
#   * data types: Hugepages, NfviMaintenanceInfo (+ Max/Min instance rules),
#     BootData, KvpData, ContentOrFileData, BootDataVimSpecificProperties,
#     VnfmInterfaceInfo, OauthServerInfo, VnfPackageChangeSelector,
#     VnfPackageChangeComponentMapping, Vnf{ChangeCurrentPackage,
#     CreateSnapshot,RevertToSnapshot}OperationConfiguration, VnfLcmOpCoord,
#     Input/OutputOpCoordParams, container and virtual-CP data
#     (ExtendedResourceData, McioIdentificationData, VipCpLevel, ServiceData,
#     ServicePortData, AdditionalServiceData);
#   * new properties on existing types (ext_invariant_id, configurable_
#     properties/modifiable_attributes on the VNF, per_vnfc_instance,
#     nfvi_maintenance_info, segmentation_id, huge_pages_requirements, ...),
#     declared optional so that v2.x descriptors stay valid;
#   * widened value sets (vnic_type, monitoring metrics, affinity scopes,
#     SupportedVnfInterface names);
#   * Vnflcm operation inputs, change_current_package, create_snapshot and
#     revert_to_snapshot operations and notifications; VnfIndicator and
#     ChangeCurrentVnfPackage interface types;
#   * HelmChart artifact; OS container VDUs, Mciop, VirtualCp, VipCp and
#     VduSubCp node types with their capabilities and relationships;
#   * VnfIndicator, VnfPackageChange, LCM coordination and VipCp policies.
# v2.6.1 content dropped by later releases (sw_image_data, SwImageData) is
# kept. Conflicting property types: see VERSION_DEPENDENT_PROPERTIES.
# ---------------------------------------------------------------------------
_SOL001_VNFD = """\
tosca_definitions_version: tosca_simple_yaml_1_3
description: ETSI NFV SOL001 VNFD types (vnfm-toolkit offline catalogue).
metadata:
  template_name: etsi_nfv_sol001_vnfd_types
  template_author: vnfm-toolkit
  template_version: 4.5.1

imports:
  - etsi_nfv_sol001_common_types.yaml

data_types:
  # -- network interfaces and compute -----------------------------------------
  tosca.datatypes.nfv.VirtualNetworkInterfaceRequirements:
    derived_from: tosca.datatypes.Root
    description: Requirements on the virtual NIC realising a connection point.
    properties:
      name:
        type: string
        description: Readable name of the requirement.
        required: false
      description:
        type: string
        description: Readable description of the requirement.
        required: false
      support_mandatory:
        type: boolean
        description: Whether meeting the requirement is mandatory (v2.x only).
        required: false
      network_interface_requirements:
        type: map
        description: Platform specific NIC requirements as key-value pairs.
        entry_schema:
          type: string
      nic_io_requirements:
        type: tosca.datatypes.nfv.LogicalNodeData
        description: Logical node I/O requirements tied to this NIC.
        required: false

  tosca.datatypes.nfv.RequestedAdditionalCapability:
    derived_from: tosca.datatypes.Root
    description: An additional capability a VDU asks of the platform.
    properties:
      requested_additional_capability_name:
        type: string
        description: Name of the capability.
      support_mandatory:
        type: boolean
        description: Whether the capability is mandatory.
      min_requested_additional_capability_version:
        type: string
        description: Lowest acceptable version.
        required: false
      preferred_requested_additional_capability_version:
        type: string
        description: Preferred version.
        required: false
      target_performance_parameters:
        type: map
        description: Capability specific attributes.
        entry_schema:
          type: string

  tosca.datatypes.nfv.VirtualMemory:
    derived_from: tosca.datatypes.Root
    description: Virtual memory of a virtual compute resource.
    properties:
      virtual_mem_size:
        type: scalar-unit.size
        description: Amount of memory.
      virtual_mem_oversubscription_policy:
        type: string
        description: Oversubscription policy of virtual to physical memory.
        required: false
      vdu_mem_requirements:
        type: map
        description: Platform specific memory requirements.
        required: false
        entry_schema:
          type: string
      numa_enabled:
        type: boolean
        description: Whether memory allocation follows the process/core placement.
        required: false
        default: false
      huge_pages_requirements:
        type: list
        description: Huge pages needed, per page size.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.Hugepages

  tosca.datatypes.nfv.VirtualCpu:
    derived_from: tosca.datatypes.Root
    description: Virtual CPUs of a virtual compute resource.
    properties:
      cpu_architecture:
        type: string
        description: CPU architecture, such as x86 or ARM.
        required: false
      num_virtual_cpu:
        type: integer
        description: Number of virtual CPUs.
        constraints:
          - greater_than: 0
      virtual_cpu_clock:
        type: scalar-unit.frequency
        description: Lowest acceptable clock rate.
        required: false
      virtual_cpu_oversubscription_policy:
        type: string
        description: Oversubscription policy of virtual to physical cores.
        required: false
      vdu_cpu_requirements:
        type: map
        description: Platform specific CPU requirements.
        required: false
        entry_schema:
          type: string
      virtual_cpu_pinning:
        type: tosca.datatypes.nfv.VirtualCpuPinning
        description: CPU pinning configuration.
        required: false

  tosca.datatypes.nfv.VirtualCpuPinning:
    derived_from: tosca.datatypes.Root
    description: How virtual CPUs are pinned to logical CPUs.
    properties:
      virtual_cpu_pinning_policy:
        type: string
        description: static (follow the rules below) or dynamic (VIM decides).
        required: false
        constraints:
          - valid_values: [static, dynamic]
      virtual_cpu_pinning_rule:
        type: list
        description: Rules for static pinning.
        required: false
        entry_schema:
          type: string

  tosca.datatypes.nfv.Hugepages:
    derived_from: tosca.datatypes.Root
    description: Memory needed in huge pages of one size.
    properties:
      hugepage_size:
        type: scalar-unit.size
        description: Page size.
      requested_size:
        type: scalar-unit.size
        description: Total memory needed in pages of that size.

  tosca.datatypes.nfv.LogicalNodeData:
    derived_from: tosca.datatypes.Root
    description: Compute, memory and I/O requirements of one logical node.
    properties:
      logical_node_requirements:
        type: map
        description: Platform specific requirements as key-value pairs.
        required: false
        entry_schema:
          type: string

  # -- VNFC configuration ---------------------------------------------------
  tosca.datatypes.nfv.VnfcConfigurableProperties:
    derived_from: tosca.datatypes.Root
    description: Configurable properties of a VNFC.
    properties:
      additional_vnfc_configurable_properties:
        type: tosca.datatypes.nfv.VnfcAdditionalConfigurableProperties
        description: VNFC specific properties; derived types refine the type.
        required: false

  tosca.datatypes.nfv.VnfcAdditionalConfigurableProperties:
    derived_from: tosca.datatypes.Root
    description: Empty base for VNFC specific configurable properties.

  # -- deployment flavour ---------------------------------------------------
  tosca.datatypes.nfv.VduProfile:
    derived_from: tosca.datatypes.Root
    description: Instance bounds of a VDU in a deployment flavour.
    properties:
      min_number_of_instances:
        type: integer
        description: Fewest VNFC instances of the VDU.
        constraints:
          - greater_or_equal: 0
      max_number_of_instances:
        type: integer
        description: Most VNFC instances of the VDU.
        constraints:
          - greater_or_equal: 0
      nfvi_maintenance_info:
        type: tosca.datatypes.nfv.NfviMaintenanceInfo
        description: Tolerance of the VDU to NFVI maintenance.
        required: false

  tosca.datatypes.nfv.VlProfile:
    derived_from: tosca.datatypes.Root
    description: Instantiation data of an internal virtual link in a deployment flavour.
    properties:
      max_bitrate_requirements:
        type: tosca.datatypes.nfv.LinkBitrateRequirements
        description: Maximum bitrate.
      min_bitrate_requirements:
        type: tosca.datatypes.nfv.LinkBitrateRequirements
        description: Minimum bitrate.
      qos:
        type: tosca.datatypes.nfv.Qos
        description: Quality of service.
        required: false
      virtual_link_protocol_data:
        type: list
        description: Protocol data per layer.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.VirtualLinkProtocolData

  tosca.datatypes.nfv.VirtualLinkProtocolData:
    derived_from: tosca.datatypes.Root
    description: One protocol layer of a virtual link and its data.
    properties:
      associated_layer_protocol:
        type: string
        description: The layer, one of the connectivity_type protocols.
        constraints:
          - valid_values: [ethernet, mpls, odu2, ipv4, ipv6, pseudo-wire]
      l2_protocol_data:
        type: tosca.datatypes.nfv.L2ProtocolData
        description: Present for an L2 layer.
        required: false
      l3_protocol_data:
        type: tosca.datatypes.nfv.L3ProtocolData
        description: Present for an L3 layer.
        required: false

  tosca.datatypes.nfv.L2ProtocolData:
    derived_from: tosca.datatypes.Root
    description: L2 data of a virtual link.
    properties:
      name:
        type: string
        description: Network name.
        required: false
      network_type:
        type: string
        description: Network type; may be overridden at run time.
        required: false
        constraints:
          - valid_values: [flat, vlan, vxlan, gre]
      vlan_transparent:
        type: boolean
        description: Whether VLAN transparency is needed.
        required: false
        default: false
      mtu:
        type: integer
        description: Maximum transmission unit.
        required: false
        constraints:
          - greater_than: 0
      segmentation_id:
        type: string
        description: Segment (VLAN id, tunnel id) of the network.
        required: false

  tosca.datatypes.nfv.L3ProtocolData:
    derived_from: tosca.datatypes.Root
    description: L3 (subnet) data of a virtual link; values may be overridden at run time.
    properties:
      name:
        type: string
        description: Subnet name.
        required: false
      ip_version:
        type: string
        description: IP version, consistent with the link's layer protocols.
        constraints:
          - valid_values: [ipv4, ipv6]
      cidr:
        type: string
        description: Subnet in CIDR notation.
      ip_allocation_pools:
        type: list
        description: Ranges addresses are allocated from.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.IpAllocationPool
      gateway_ip:
        type: string
        description: Gateway address.
        required: false
      dhcp_enabled:
        type: boolean
        description: Whether DHCP is enabled.
        required: false
      ipv6_address_mode:
        type: string
        description: IPv6 address mode; only with ipv6.
        required: false
        constraints:
          - valid_values: [slaac, dhcpv6-stateful, dhcpv6-stateless]

  tosca.datatypes.nfv.IpAllocationPool:
    derived_from: tosca.datatypes.Root
    description: A range of IP addresses within the subnet.
    properties:
      start_ip_address:
        type: string
        description: First address of the range.
      end_ip_address:
        type: string
        description: Last address of the range.

  tosca.datatypes.nfv.InstantiationLevel:
    derived_from: tosca.datatypes.Root
    description: A named amount of resources, given as a scale level per aspect.
    properties:
      description:
        type: string
        description: Readable description of the level.
      scale_info:
        type: map
        description: Scale level per aspect id; present when the VNF scales.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.ScaleInfo

  tosca.datatypes.nfv.VduLevel:
    derived_from: tosca.datatypes.Root
    description: Number of VNFC instances of a VDU for a level or delta.
    properties:
      number_of_instances:
        type: integer
        description: Number of instances.
        constraints:
          - greater_or_equal: 0

  tosca.datatypes.nfv.VirtualLinkBitrateLevel:
    derived_from: tosca.datatypes.Root
    description: Bitrate of an internal virtual link for a level or delta.
    properties:
      bitrate_requirements:
        type: tosca.datatypes.nfv.LinkBitrateRequirements
        description: Bitrate for the level, or its increase for a scaling step.

  tosca.datatypes.nfv.ScalingAspect:
    derived_from: tosca.datatypes.Root
    description: A scaling aspect of the deployment flavour.
    properties:
      name:
        type: string
        description: Readable name of the aspect.
      description:
        type: string
        description: Readable description of the aspect.
      max_scale_level:
        type: integer
        description: Number of steps from scale level 0 to the top level.
        constraints:
          - greater_or_equal: 0
      step_deltas:
        type: list
        description: Delta id for each step, first step first.
        required: false
        entry_schema:
          type: string

  tosca.datatypes.nfv.VipCpLevel:
    derived_from: tosca.datatypes.Root
    description: Number of VipCp instances for a level or delta.
    properties:
      number_of_instances:
        type: integer
        description: Number of instances.
        constraints:
          - greater_or_equal: 0

  # -- LCM operation configuration ------------------------------------------
  tosca.datatypes.nfv.VnfLcmOperationsConfiguration:
    derived_from: tosca.datatypes.Root
    description: Configuration of the VNF lifecycle management operations.
    properties:
      instantiate:
        type: tosca.datatypes.nfv.VnfInstantiateOperationConfiguration
        description: For InstantiateVnf.
        required: false
      scale:
        type: tosca.datatypes.nfv.VnfScaleOperationConfiguration
        description: For ScaleVnf.
        required: false
      scale_to_level:
        type: tosca.datatypes.nfv.VnfScaleToLevelOperationConfiguration
        description: For ScaleVnfToLevel.
        required: false
      change_flavour:
        type: tosca.datatypes.nfv.VnfChangeFlavourOperationConfiguration
        description: For ChangeVnfFlavour.
        required: false
      heal:
        type: tosca.datatypes.nfv.VnfHealOperationConfiguration
        description: For HealVnf.
        required: false
      terminate:
        type: tosca.datatypes.nfv.VnfTerminateOperationConfiguration
        description: For TerminateVnf.
        required: false
      operate:
        type: tosca.datatypes.nfv.VnfOperateOperationConfiguration
        description: For OperateVnf.
        required: false
      change_ext_connectivity:
        type: tosca.datatypes.nfv.VnfChangeExtConnectivityOperationConfiguration
        description: For ChangeExtVnfConnectivity.
        required: false
      change_current_package:
        type: tosca.datatypes.nfv.VnfChangeCurrentPackageOperationConfiguration
        description: For ChangeCurrentVnfPackage.
        required: false
      create_snapshot:
        type: tosca.datatypes.nfv.VnfCreateSnapshotOperationConfiguration
        description: For CreateVnfSnapshot.
        required: false
      revert_to_snapshot:
        type: tosca.datatypes.nfv.VnfRevertToSnapshotOperationConfiguration
        description: For RevertToVnfSnapshot.
        required: false

  tosca.datatypes.nfv.VnfInstantiateOperationConfiguration:
    derived_from: tosca.datatypes.Root
    description: Settings affecting InstantiateVnf.
    properties:
      target_scale_levels_supported:
        type: boolean
        description: Whether a target scale level per aspect may be requested.
        required: false
        default: false

  tosca.datatypes.nfv.VnfScaleOperationConfiguration:
    derived_from: tosca.datatypes.Root
    description: Settings affecting ScaleVnf.
    properties:
      scaling_by_more_than_one_step_supported:
        type: boolean
        description: Whether one request may scale by several steps.
        required: false
        default: false

  tosca.datatypes.nfv.VnfScaleToLevelOperationConfiguration:
    derived_from: tosca.datatypes.Root
    description: Settings affecting ScaleVnfToLevel.
    properties:
      arbitrary_target_levels_supported:
        type: boolean
        description: Whether targets may be given per aspect (scaleInfo) rather than as a level.

  tosca.datatypes.nfv.VnfHealOperationConfiguration:
    derived_from: tosca.datatypes.Root
    description: Settings affecting HealVnf.
    properties:
      causes:
        type: list
        description: Accepted values of the cause parameter.
        required: false
        entry_schema:
          type: string

  tosca.datatypes.nfv.VnfTerminateOperationConfiguration:
    derived_from: tosca.datatypes.Root
    description: Settings affecting TerminateVnf.
    properties:
      min_graceful_termination_timeout:
        type: scalar-unit.time
        description: Shortest graceful termination timeout.
      max_recommended_graceful_termination_timeout:
        type: scalar-unit.time
        description: Advisory longest graceful termination time; not a constraint.
        required: false

  tosca.datatypes.nfv.VnfOperateOperationConfiguration:
    derived_from: tosca.datatypes.Root
    description: Settings affecting OperateVnf.
    properties:
      min_graceful_stop_timeout:
        type: scalar-unit.time
        description: Shortest graceful stop timeout.
      max_recommended_graceful_stop_timeout:
        type: scalar-unit.time
        description: Advisory longest graceful stop time; not a constraint.
        required: false

  tosca.datatypes.nfv.VnfChangeFlavourOperationConfiguration:
    derived_from: tosca.datatypes.Root
    description: Settings affecting ChangeVnfFlavour (none defined yet).

  tosca.datatypes.nfv.VnfChangeExtConnectivityOperationConfiguration:
    derived_from: tosca.datatypes.Root
    description: Settings affecting ChangeExtVnfConnectivity (none defined yet).

  tosca.datatypes.nfv.VnfChangeCurrentPackageOperationConfiguration:
    derived_from: tosca.datatypes.Root
    description: Settings affecting ChangeCurrentVnfPackage (none defined yet).

  tosca.datatypes.nfv.VnfCreateSnapshotOperationConfiguration:
    derived_from: tosca.datatypes.Root
    description: Settings affecting CreateVnfSnapshot (none defined yet).

  tosca.datatypes.nfv.VnfRevertToSnapshotOperationConfiguration:
    derived_from: tosca.datatypes.Root
    description: Settings affecting RevertToVnfSnapshot (none defined yet).

  tosca.datatypes.nfv.VnfOperationAdditionalParameters:
    derived_from: tosca.datatypes.Root
    description: Empty base for VNF specific LCM operation parameters.

  # -- VNF configuration and modifiable information -------------------------
  tosca.datatypes.nfv.VnfConfigurableProperties:
    derived_from: tosca.datatypes.Root
    description: Configurable properties of a VNF; absent ones are not configurable.
    properties:
      is_autoscale_enabled:
        type: boolean
        description: Turns auto-scaling on or off.
        required: false
      is_autoheal_enabled:
        type: boolean
        description: Turns auto-healing on or off.
        required: false
      vnfm_interface_info:
        type: list
        description: How the VNF reaches the VNFM interfaces.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.VnfmInterfaceInfo
      vnfm_oauth_server_info:
        type: tosca.datatypes.nfv.OauthServerInfo
        description: Authorization server guarding the VNFM interfaces.
        required: false
      vnf_oauth_server_info:
        type: tosca.datatypes.nfv.OauthServerInfo
        description: Authorization server validating tokens the VNFM presents to the VNF.
        required: false
      additional_configurable_properties:
        type: tosca.datatypes.nfv.VnfAdditionalConfigurableProperties
        description: VNF specific properties; derived types refine the type.
        required: false

  tosca.datatypes.nfv.VnfAdditionalConfigurableProperties:
    derived_from: tosca.datatypes.Root
    description: Base for VNF specific configurable properties.
    properties:
      is_writable_anytime:
        type: boolean
        description: Writable after instantiation too (true) or only up to it (false).
        required: false
        default: true

  tosca.datatypes.nfv.VnfInfoModifiableAttributes:
    derived_from: tosca.datatypes.Root
    description: VnfInfo extensions and metadata that may be modified.
    properties:
      extensions:
        type: tosca.datatypes.nfv.VnfInfoModifiableAttributesExtensions
        description: Writable extensions; derived types refine the type.
        required: false
      metadata:
        type: tosca.datatypes.nfv.VnfInfoModifiableAttributesMetadata
        description: Writable metadata; derived types refine the type.
        required: false

  tosca.datatypes.nfv.VnfInfoModifiableAttributesExtensions:
    derived_from: tosca.datatypes.Root
    description: Empty base for VNF specific writable extensions.

  tosca.datatypes.nfv.VnfInfoModifiableAttributesMetadata:
    derived_from: tosca.datatypes.Root
    description: Empty base for VNF specific writable metadata.

  tosca.datatypes.nfv.VnfmInterfaceInfo:
    derived_from: tosca.datatypes.Root
    description: Access information for one VNFM interface.
    properties:
      interface_name:
        type: string
        description: The VNFM interface.
        constraints:
          - valid_values: [vnf_lcm, vnf_pm, vnf_fm]
      details:
        type: tosca.datatypes.nfv.InterfaceDetails
        description: Endpoint details.
        required: false
      credentials:
        type: map
        description: Credentials for the interface.
        required: false
        entry_schema:
          type: string

  tosca.datatypes.nfv.OauthServerInfo:
    derived_from: tosca.datatypes.Root
    description: Discovery data of an authorization server (content reserved).

  # -- software images, storage, boot data -----------------------------------
  tosca.datatypes.nfv.SwImageData:
    derived_from: tosca.datatypes.Root
    description: A software image artifact (v2.x/v3.x; later releases put this on the artifact).
    properties:
      name:
        type: string
        description: Image name.
      version:
        type: string
        description: Image version.
      checksum:
        type: tosca.datatypes.nfv.ChecksumData
        description: Checksum of the image file.
      container_format:
        type: string
        description: Container format of the image file.
        constraints:
          - valid_values: [aki, ami, ari, bare, docker, ova, ovf]
      disk_format:
        type: string
        description: Disk format inside the container.
        constraints:
          - valid_values: [aki, ami, ari, iso, qcow2, raw, vdi, vhd, vhdx, vmdk]
      min_disk:
        type: scalar-unit.size
        description: Smallest disk the image needs.
        constraints:
          - greater_or_equal: 0 B
      min_ram:
        type: scalar-unit.size
        description: Smallest RAM the image needs.
        required: false
        constraints:
          - greater_or_equal: 0 B
      size:
        type: scalar-unit.size
        description: Size of the image.
      operating_system:
        type: string
        description: Operating system in the image.
        required: false
      supported_virtualisation_environments:
        type: list
        description: Compatible hypervisors or other environments.
        required: false
        entry_schema:
          type: string

  tosca.datatypes.nfv.ChecksumData:
    derived_from: tosca.datatypes.Root
    description: A checksum and the algorithm that produced it.
    properties:
      algorithm:
        type: string
        description: Hash algorithm.
        constraints:
          - valid_values: [sha-224, sha-256, sha-384, sha-512]
      hash:
        type: string
        description: The checksum value.

  tosca.datatypes.nfv.VirtualBlockStorageData:
    derived_from: tosca.datatypes.Root
    description: Block storage of a VDU, local disk or attached volume.
    properties:
      size_of_storage:
        type: scalar-unit.size
        description: Size of the storage.
        constraints:
          - greater_or_equal: 0 B
      vdu_storage_requirements:
        type: map
        description: Platform specific storage requirements.
        required: false
        entry_schema:
          type: string
      rdma_enabled:
        type: boolean
        description: Whether the storage supports RDMA.
        required: false
        default: false

  tosca.datatypes.nfv.VirtualObjectStorageData:
    derived_from: tosca.datatypes.Root
    description: Object storage of a VDU.
    properties:
      max_size_of_storage:
        type: scalar-unit.size
        description: Largest size of the storage.
        required: false
        constraints:
          - greater_or_equal: 0 B

  tosca.datatypes.nfv.VirtualFileStorageData:
    derived_from: tosca.datatypes.Root
    description: Shared file storage of a VDU.
    properties:
      size_of_storage:
        type: scalar-unit.size
        description: Size of the storage.
        constraints:
          - greater_or_equal: 0 B
      file_system_protocol:
        type: string
        description: Sharing protocol, such as nfs or cifs (free text in v2.x).

  tosca.datatypes.nfv.BootData:
    derived_from: tosca.datatypes.Root
    description: Data customising a virtual compute resource at boot.
    properties:
      vim_specific_properties:
        type: tosca.datatypes.nfv.BootDataVimSpecificProperties
        description: VIM specific boot options.
        required: false
      kvp_data:
        type: tosca.datatypes.nfv.KvpData
        description: Key-value boot data.
        required: false
      content_or_file_data:
        type: tosca.datatypes.nfv.ContentOrFileData
        description: Boot data as inline content or a package file.
        required: false

  tosca.datatypes.nfv.KvpData:
    derived_from: tosca.datatypes.Root
    description: Boot data as key-value pairs.
    properties:
      data:
        type: map
        description: The pairs.
        required: false
        entry_schema:
          type: string

  tosca.datatypes.nfv.ContentOrFileData:
    derived_from: tosca.datatypes.Root
    description: Boot data as inline content or as a (templated) package file.
    properties:
      data:
        type: map
        description: Values substituted into the file named by source_path.
        required: false
        entry_schema:
          type: string
      content:
        type: string
        description: Inline content.
        required: false
      source_path:
        type: string
        description: URI of a file in the VNF package.
        required: false
      destination_path:
        type: string
        description: URI where the file is injected into the compute resource.
        required: false

  tosca.datatypes.nfv.BootDataVimSpecificProperties:
    derived_from: tosca.datatypes.Root
    description: VIM specific options applied when setting boot data.
    properties:
      vim_type:
        type: string
        description: Kind of VIM the options are for.
        required: false
      properties:
        type: map
        description: The options.
        entry_schema:
          type: string

  # -- NFVI maintenance -------------------------------------------------------
  tosca.datatypes.nfv.NfviMaintenanceInfo:
    derived_from: tosca.datatypes.Root
    description: Rules to observe when NFVI maintenance impacts virtualised resources.
    properties:
      impact_notification_lead_time:
        type: scalar-unit.time
        description: Least notice wanted before an impact.
      is_impact_mitigation_requested:
        type: boolean
        description: Whether compensating resources are wanted during the impact.
        required: false
        default: false
      supported_migration_type:
        type: list
        description: Acceptable migration types, most preferred first.
        required: false
        entry_schema:
          type: string
          constraints:
            - valid_values: [no_migration, offline_migration, live_migration]
      max_undetectable_interruption_time:
        type: scalar-unit.time
        description: Longest interruption the VNF does not notice during live migration.
        required: false
      min_recovery_time_between_impacts:
        type: scalar-unit.time
        description: Least time between consecutive impacts on the group.
        required: false
      max_number_of_impacted_instances:
        type: list
        description: Instances that may be impacted at once, per group size.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.MaxNumberOfImpactedInstances
      min_number_of_preserved_instances:
        type: list
        description: Instances that must stay unaffected, per group size.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.MinNumberOfPreservedInstances

  tosca.datatypes.nfv.MaxNumberOfImpactedInstances:
    derived_from: tosca.datatypes.Root
    description: Most instances impacted at once for a group size.
    properties:
      group_size:
        type: integer
        description: Group size; unlimited when absent.
        required: false
        constraints:
          - greater_than: 0
      max_number_of_impacted_instances:
        type: integer
        description: Most instances impacted at once.
        constraints:
          - greater_than: 0

  tosca.datatypes.nfv.MinNumberOfPreservedInstances:
    derived_from: tosca.datatypes.Root
    description: Fewest instances kept unaffected for a group size.
    properties:
      group_size:
        type: integer
        description: Group size; unlimited when absent.
        required: false
        constraints:
          - greater_than: 0
      min_number_of_preserved_instances:
        type: integer
        description: Fewest instances kept.
        constraints:
          - greater_than: 0

  # -- monitoring ------------------------------------------------------------
  tosca.datatypes.nfv.VnfcMonitoringParameter:
    derived_from: tosca.datatypes.Root
    description: A VNFC-level virtualised resource metric to monitor.
    properties:
      name:
        type: string
        description: Readable name of the parameter.
      performance_metric:
        type: string
        description: Metric to monitor (ETSI GS NFV-IFA 027 names).
        constraints:
          - valid_values:
              - v_cpu_usage_mean_vnf
              - v_cpu_usage_peak_vnf
              - v_memory_usage_mean_vnf
              - v_memory_usage_peak_vnf
              - v_disk_usage_mean_vnf
              - v_disk_usage_peak_vnf
              - byte_incoming_vnf_int_cp
              - byte_outgoing_vnf_int_cp
              - packet_incoming_vnf_int_cp
              - packet_outgoing_vnf_int_cp
              - v_cpu_usage_mean
              - v_cpu_usage_peak
              - v_memory_usage_mean
              - v_memory_usage_peak
              - v_disk_usage_mean
              - v_disk_usage_peak
              - v_net_byte_incoming
              - v_net_byte_outgoing
              - v_net_packet_incoming
              - v_net_packet_outgoing
              - usage_mean_vStorage
              - usage_peak_vStorage
      collection_period:
        type: scalar-unit.time
        description: How often the metric is collected.
        required: false
        constraints:
          - greater_than: 0 s

  tosca.datatypes.nfv.VirtualLinkMonitoringParameter:
    derived_from: tosca.datatypes.Root
    description: A virtual link metric to monitor.
    properties:
      name:
        type: string
        description: Readable name of the parameter.
      performance_metric:
        type: string
        description: Metric to monitor (v2.x and later names).
        constraints:
          - valid_values:
              - packet_outgoing_virtual_link
              - packet_incoming_virtual_link
              - byte_incoming
              - byte_outgoing
              - packet_incoming
              - packet_outgoing
      collection_period:
        type: scalar-unit.time
        description: How often the metric is collected.
        required: false
        constraints:
          - greater_than: 0 s

  # -- interfaces exposed by the VNF -----------------------------------------
  tosca.datatypes.nfv.InterfaceDetails:
    derived_from: tosca.datatypes.Root
    description: How to reach an interface endpoint.
    properties:
      uri_components:
        type: tosca.datatypes.nfv.UriComponents
        description: Parts of the endpoint URI.
        required: false
      interface_specific_data:
        type: map
        description: Interface specific details.
        required: false
        entry_schema:
          type: string

  tosca.datatypes.nfv.UriComponents:
    derived_from: tosca.datatypes.Root
    description: The components of an RFC 3986 URI.
    properties:
      scheme:
        type: string
        description: URI scheme.
      authority:
        type: tosca.datatypes.nfv.UriAuthority
        description: URI authority.
        required: false
      path:
        type: string
        description: URI path.
        required: false
      query:
        type: string
        description: URI query.
        required: false
      fragment:
        type: string
        description: URI fragment.
        required: false

  tosca.datatypes.nfv.UriAuthority:
    derived_from: tosca.datatypes.Root
    description: The authority part of an RFC 3986 URI.
    properties:
      user_info:
        type: string
        description: User information.
        required: false
      host:
        type: string
        description: Host.
        required: false
      port:
        type: string
        description: Port.
        required: false

  # -- change current VNF package --------------------------------------------
  tosca.datatypes.nfv.VnfPackageChangeSelector:
    derived_from: tosca.datatypes.Root
    description: Source and destination VNFDs (and source flavour) of a package change.
    properties:
      source_descriptor_id:
        type: string
        description: VNFD id of the source package.
      destination_descriptor_id:
        type: string
        description: VNFD id of the destination package.
      source_flavour_id:
        type: string
        description: Source deployment flavour the rule applies to.

  tosca.datatypes.nfv.VnfPackageChangeComponentMapping:
    derived_from: tosca.datatypes.Root
    description: Maps a component of the source VNFD to its counterpart in the destination VNFD.
    properties:
      component_type:
        type: string
        description: Kind of component or property mapped.
        constraints:
          - valid_values: [vdu, cp, virtual_link, virtual_storage, instantiation_level, scaling_aspect]
      source_id:
        type: string
        description: Identifier in the source VNFD.
      destination_id:
        type: string
        description: Identifier in the destination VNFD.
      description:
        type: string
        description: Readable description of the change.
        required: false

  # -- LCM coordination --------------------------------------------------------
  tosca.datatypes.nfv.VnfLcmOpCoord:
    derived_from: tosca.datatypes.Root
    description: A coordination action taken during a VNF LCM operation.
    properties:
      description:
        type: string
        description: Readable description of the action.
        required: false
      endpoint_type:
        type: string
        description: Who exposes the coordination endpoint.
        required: false
        constraints:
          - valid_values: [mgmt, vnf]
      coordination_stage:
        type: string
        description: Run before or after the other changes; absent for intermediate stages.
        required: false
        constraints:
          - valid_values: [start, end]
      input_parameters:
        type: tosca.datatypes.nfv.InputOpCoordParams
        description: Input of the coordination request.
        required: false
      output_parameters:
        type: tosca.datatypes.nfv.OutputOpCoordParams
        description: Output of the coordination response.
        required: false

  tosca.datatypes.nfv.InputOpCoordParams:
    derived_from: tosca.datatypes.Root
    description: Empty base for coordination action inputs.

  tosca.datatypes.nfv.OutputOpCoordParams:
    derived_from: tosca.datatypes.Root
    description: Empty base for coordination action outputs.

  # -- OS containers and virtual CPs -----------------------------------------
  tosca.datatypes.nfv.ExtendedResourceData:
    derived_from: tosca.datatypes.Root
    description: An extended (platform specific) resource a container asks for.
    properties:
      extended_resource:
        type: map
        description: Exactly one key-value pair naming the resource.
        entry_schema:
          type: string
        constraints:
          - min_length: 1
          - max_length: 1
      amount:
        type: integer
        description: Amount requested.
        constraints:
          - greater_than: 0

  tosca.datatypes.nfv.McioIdentificationData:
    derived_from: tosca.datatypes.Root
    description: Name and kind of the MCIO realising a container VDU.
    properties:
      name:
        type: string
        description: MCIO name.
      type:
        type: string
        description: MCIO kind.
        constraints:
          - valid_values: [Deployment, StatefulSet]

  tosca.datatypes.nfv.ServiceData:
    derived_from: tosca.datatypes.Root
    description: Service matching data exposed by a VirtualCp.
    properties:
      host:
        type: string
        description: Fully qualified host name.
        required: false
      path:
        type: list
        description: URI paths.
        required: false
        entry_schema:
          type: string

  tosca.datatypes.nfv.ServicePortData:
    derived_from: tosca.datatypes.Root
    description: A service port exposed by a VirtualCp.
    properties:
      name:
        type: string
        description: Port name.
      protocol:
        type: string
        description: L4 protocol.
        constraints:
          - valid_values: [tcp, udp, sctp]
      port:
        type: integer
        description: Port number.
        constraints:
          - greater_or_equal: 0
      portConfigurable:
        type: boolean
        description: Whether the port number may be configured.

  tosca.datatypes.nfv.AdditionalServiceData:
    derived_from: tosca.datatypes.Root
    description: Service data of a VirtualCp exposed to NFV-MANO.
    properties:
      portData:
        type: list
        description: Service ports.
        entry_schema:
          type: tosca.datatypes.nfv.ServicePortData
      serviceData:
        type: tosca.datatypes.nfv.ServiceData
        description: Service matching data.
        required: false

artifact_types:
  tosca.artifacts.nfv.SwImage:
    derived_from: tosca.artifacts.Deployment.Image
    description: A software image for a VDU or a virtual storage.
    properties:
      name:
        type: string
        description: Image name.
      version:
        type: string
        description: Image version.
      provider:
        type: string
        description: Image provider.
        required: false
      checksum:
        type: tosca.datatypes.nfv.ChecksumData
        description: Checksum of the image file.
        required: false
      container_format:
        type: string
        description: Container format of the image file.
        constraints:
          - valid_values: [aki, ami, ari, bare, docker, ova, ovf]
      disk_format:
        type: string
        description: Disk format inside the container.
        required: false
        constraints:
          - valid_values: [aki, ami, ari, iso, qcow2, raw, vdi, vhd, vhdx, vmdk]
      min_disk:
        type: scalar-unit.size
        description: Smallest disk the image needs.
        required: false
        constraints:
          - greater_or_equal: 0 B
      min_ram:
        type: scalar-unit.size
        description: Smallest RAM the image needs.
        required: false
        constraints:
          - greater_or_equal: 0 B
      size:
        type: scalar-unit.size
        description: Size of the image.
        required: false
      operating_system:
        type: string
        description: Operating system in the image.
        required: false
      supported_virtualisation_environments:
        type: list
        description: Compatible hypervisors or other environments.
        required: false
        entry_schema:
          type: string

  tosca.artifacts.Implementation.nfv.Mistral:
    derived_from: tosca.artifacts.Implementation
    description: A Mistral workflow.
    mime_type: application/x-yaml
    file_ext: [yaml]

  tosca.artifacts.nfv.HelmChart:
    derived_from: tosca.artifacts.File
    description: A Helm chart archive.
    file_ext: [tar, tar.gz, tgz]

capability_types:
  tosca.capabilities.nfv.VirtualBindable:
    derived_from: tosca.capabilities.Node
    description: A VduCp can be bound to the node (VirtualBindsTo).

  tosca.capabilities.nfv.VirtualCompute:
    derived_from: tosca.capabilities.Node
    description: The virtual compute resources of a VDU.
    properties:
      logical_node:
        type: map
        description: Logical node requirements.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.LogicalNodeData
      requested_additional_capabilities:
        type: map
        description: Additional capabilities asked of the platform.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.RequestedAdditionalCapability
      compute_requirements:
        type: map
        description: Platform specific compute requirements.
        required: false
        entry_schema:
          type: string
      virtual_memory:
        type: tosca.datatypes.nfv.VirtualMemory
        description: Virtual memory.
      virtual_cpu:
        type: tosca.datatypes.nfv.VirtualCpu
        description: Virtual CPUs.
      virtual_local_storage:
        type: list
        description: System disks living and dying with the VM.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.VirtualBlockStorageData

  tosca.capabilities.nfv.VirtualStorage:
    derived_from: tosca.capabilities.Root
    description: The storage node can be attached to a VDU.

  tosca.capabilities.nfv.TrunkBindable:
    derived_from: tosca.capabilities.Node
    description: A VduSubCp can be bound to this trunk port (TrunkBindsTo).

  tosca.capabilities.nfv.ContainerDeployable:
    derived_from: tosca.capabilities.Node
    description: The OS container can be deployed by a container VDU (DeploysTo).

  tosca.capabilities.nfv.AssociableVdu:
    derived_from: tosca.capabilities.Node
    description: An Mciop can be associated with the VDU (MciopAssociates).

relationship_types:
  tosca.relationships.nfv.VirtualBindsTo:
    derived_from: tosca.relationships.DependsOn
    description: Binds a VduCp to its VDU.
    valid_target_types: [tosca.capabilities.nfv.VirtualBindable]

  tosca.relationships.nfv.AttachesTo:
    derived_from: tosca.relationships.Root
    description: Attaches a virtual storage to a VDU.
    valid_target_types: [tosca.capabilities.nfv.VirtualStorage]

  tosca.relationships.nfv.TrunkBindsTo:
    derived_from: tosca.relationships.DependsOn
    description: Binds a trunk subport to its trunk port.
    valid_target_types: [tosca.capabilities.nfv.TrunkBindable]

  tosca.relationships.nfv.DeploysTo:
    derived_from: tosca.relationships.DependsOn
    description: Links a container VDU to the OS containers it is made of.
    valid_target_types: [tosca.capabilities.nfv.ContainerDeployable]

  tosca.relationships.nfv.MciopAssociates:
    derived_from: tosca.relationships.DependsOn
    description: Associates an Mciop with a container VDU.
    valid_target_types: [tosca.capabilities.nfv.AssociableVdu]

interface_types:
  tosca.interfaces.nfv.Vnflcm:
    derived_from: tosca.interfaces.Root
    description: >-
      The VNF lifecycle management operations (ETSI GS NFV-IFA 007), each with
      a preamble (_start) and a postamble (_end).
    operations:
      instantiate:
        description: Handles an Instantiate VNF request.
        inputs:
          additional_parameters:
            type: tosca.datatypes.nfv.VnfOperationAdditionalParameters
            required: false
      instantiate_start:
        description: Runs before instantiate.
      instantiate_end:
        description: Runs after instantiate.
      terminate:
        description: Handles a Terminate VNF request.
        inputs:
          additional_parameters:
            type: tosca.datatypes.nfv.VnfOperationAdditionalParameters
            required: false
      terminate_start:
        description: Runs before terminate.
      terminate_end:
        description: Runs after terminate.
      modify_information:
        description: Handles a Modify VNF Information request.
      modify_information_start:
        description: Runs before modify_information.
      modify_information_end:
        description: Runs after modify_information.
      change_flavour:
        description: Handles a Change VNF Flavour request.
        inputs:
          additional_parameters:
            type: tosca.datatypes.nfv.VnfOperationAdditionalParameters
            required: false
      change_flavour_start:
        description: Runs before change_flavour.
      change_flavour_end:
        description: Runs after change_flavour.
      change_external_connectivity:
        description: Handles a Change External VNF Connectivity request.
        inputs:
          additional_parameters:
            type: tosca.datatypes.nfv.VnfOperationAdditionalParameters
            required: false
      change_external_connectivity_start:
        description: Runs before change_external_connectivity.
      change_external_connectivity_end:
        description: Runs after change_external_connectivity.
      operate:
        description: Handles an Operate VNF request.
        inputs:
          additional_parameters:
            type: tosca.datatypes.nfv.VnfOperationAdditionalParameters
            required: false
      operate_start:
        description: Runs before operate.
      operate_end:
        description: Runs after operate.
      heal:
        description: Handles a Heal VNF request.
        inputs:
          additional_parameters:
            type: tosca.datatypes.nfv.VnfOperationAdditionalParameters
            required: false
          cause:
            type: string
            description: Why healing is needed.
            required: false
          vnfc_instance_ids:
            type: list
            description: VNFC instances to heal.
            required: false
            entry_schema:
              type: string
      heal_start:
        description: Runs before heal.
      heal_end:
        description: Runs after heal.
      scale:
        description: Handles a Scale VNF request.
        inputs:
          additional_parameters:
            type: tosca.datatypes.nfv.VnfOperationAdditionalParameters
            required: false
          type:
            type: string
            description: Scale out or in.
            required: false
            constraints:
              - valid_values: [scale_out, scale_in]
          aspect:
            type: string
            description: Aspect to scale.
            required: false
          number_of_steps:
            type: integer
            description: Number of steps.
            required: false
            default: 1
            constraints:
              - greater_than: 0
      scale_start:
        description: Runs before scale.
      scale_end:
        description: Runs after scale.
      scale_to_level:
        description: Handles a Scale VNF to Level request.
        inputs:
          additional_parameters:
            type: tosca.datatypes.nfv.VnfOperationAdditionalParameters
            required: false
          instantiation_level:
            type: string
            description: Target instantiation level (or give scale_info).
            required: false
          scale_info:
            type: map
            description: Target scale level per aspect (or give instantiation_level).
            required: false
            entry_schema:
              type: tosca.datatypes.nfv.ScaleInfo
      scale_to_level_start:
        description: Runs before scale_to_level.
      scale_to_level_end:
        description: Runs after scale_to_level.
      change_current_package:
        description: Changes the current VNF package (driven by a VnfPackageChange policy).
        inputs:
          additional_parameters:
            type: tosca.datatypes.nfv.VnfOperationAdditionalParameters
            required: false
      change_current_package_start:
        description: Runs before change_current_package.
      change_current_package_end:
        description: Runs after change_current_package.
      create_snapshot:
        description: Handles a Create VNF Snapshot request.
        inputs:
          additional_parameters:
            type: tosca.datatypes.nfv.VnfOperationAdditionalParameters
            required: false
      create_snapshot_start:
        description: Runs before create_snapshot.
      create_snapshot_end:
        description: Runs after create_snapshot.
      revert_to_snapshot:
        description: Handles a Revert to VNF Snapshot request.
        inputs:
          additional_parameters:
            type: tosca.datatypes.nfv.VnfOperationAdditionalParameters
            required: false
      revert_to_snapshot_start:
        description: Runs before revert_to_snapshot.
      revert_to_snapshot_end:
        description: Runs after revert_to_snapshot.
    notifications:
      change_current_package_notification:
        description: A ChangeCurrentVnfPackage request was received.
      change_current_package_start_notification:
        description: The package change operation is about to run.
      change_current_package_end_notification:
        description: The package change operation has run.

  tosca.interfaces.nfv.VnfIndicator:
    derived_from: tosca.interfaces.Root
    description: Empty base for VNF specific interfaces carrying VNF indicator notifications.

  tosca.interfaces.nfv.ChangeCurrentVnfPackage:
    derived_from: tosca.interfaces.Root
    description: Empty base for VNF specific interfaces with package change operations.

node_types:
  tosca.nodes.nfv.VNF:
    derived_from: tosca.nodes.Root
    description: Abstract base of every VNF specific node type of a VNFD.
    properties:
      descriptor_id:
        type: string
        description: Globally unique VNFD identifier.
      ext_invariant_id:
        type: string
        description: VNFD identifier stable across compatible versions.
        required: false
      descriptor_version:
        type: string
        description: Version of the VNFD.
      provider:
        type: string
        description: Provider of the VNF and VNFD.
      product_name:
        type: string
        description: Readable product name.
      software_version:
        type: string
        description: Software version of the VNF.
      product_info_name:
        type: string
        description: Readable product information name.
        required: false
      product_info_description:
        type: string
        description: Readable product information description.
        required: false
      vnfm_info:
        type: list
        description: VNFMs able to manage the VNF.
        entry_schema:
          type: string
          constraints:
            - pattern: (^etsivnfm:v[0-9]?[0-9]\\.[0-9]?[0-9]\\.[0-9]?[0-9]$)|(^[0-9]+:[a-zA-Z0-9.-]+$)
      localization_languages:
        type: list
        description: Supported localization languages (RFC 5646 tags).
        required: false
        entry_schema:
          type: string
      default_localization_language:
        type: string
        description: Language used when none is selected (RFC 5646 tag).
        required: false
      configurable_properties:
        type: tosca.datatypes.nfv.VnfConfigurableProperties
        description: Configurable properties; derived types refine the type.
        required: false
      modifiable_attributes:
        type: tosca.datatypes.nfv.VnfInfoModifiableAttributes
        description: Modifiable attributes; derived types refine the type.
        required: false
      lcm_operations_configuration:
        type: tosca.datatypes.nfv.VnfLcmOperationsConfiguration
        description: Configuration of the LCM operations.
        required: false
      monitoring_parameters:
        type: list
        description: VNF-level monitoring parameters (a map keyed by id in later releases).
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.VnfMonitoringParameter
      flavour_id:
        type: string
        description: Deployment flavour identifier.
      flavour_description:
        type: string
        description: Readable description of the deployment flavour.
      vnf_profile:
        type: tosca.datatypes.nfv.VnfProfile
        description: Profile used when the VNF is part of an NS.
        required: false
    attributes:
      scale_status:
        type: map
        description: Current scale level per aspect.
        entry_schema:
          type: tosca.datatypes.nfv.ScaleInfo
    requirements:
      - virtual_link:
          capability: tosca.capabilities.nfv.VirtualLinkable
          relationship: tosca.relationships.nfv.VirtualLinksTo
          occurrences: [0, 1]
    interfaces:
      Vnflcm:
        type: tosca.interfaces.nfv.Vnflcm
      VnfIndicator:
        type: tosca.interfaces.nfv.VnfIndicator

  tosca.nodes.nfv.VnfExtCp:
    derived_from: tosca.nodes.nfv.Cp
    description: An external connection point of the VNF.
    properties:
      virtual_network_interface_requirements:
        type: list
        description: Virtual NIC requirements of the connection point.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.VirtualNetworkInterfaceRequirements
    requirements:
      - external_virtual_link:
          capability: tosca.capabilities.nfv.VirtualLinkable
          relationship: tosca.relationships.nfv.VirtualLinksTo
          occurrences: [0, 1]
      - internal_virtual_link:
          capability: tosca.capabilities.nfv.VirtualLinkable
          relationship: tosca.relationships.nfv.VirtualLinksTo
          occurrences: [1, 1]

  tosca.nodes.nfv.Vdu.Compute:
    derived_from: tosca.nodes.Root
    description: The virtual compute part of a VM based VDU.
    properties:
      name:
        type: string
        description: Readable name of the VDU.
      description:
        type: string
        description: Readable description of the VDU.
      boot_order:
        type: list
        description: Boot devices by node template name (a boolean in later releases).
        required: false
        entry_schema:
          type: string
      nfvi_constraints:
        type: list
        description: NFVI constraints on the VNFC instances (a map in later releases).
        required: false
        entry_schema:
          type: string
      monitoring_parameters:
        type: list
        description: VNFC-level monitoring parameters (a map keyed by id in later releases).
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.VnfcMonitoringParameter
      configurable_properties:
        type: tosca.datatypes.nfv.VnfcConfigurableProperties
        description: Configurable properties; derived types refine the type.
        required: false
      vdu_profile:
        type: tosca.datatypes.nfv.VduProfile
        description: Instance bounds of the VDU.
      sw_image_data:
        type: tosca.datatypes.nfv.SwImageData
        description: Image data, needed when the node has a SwImage artifact (v2.x/v3.x).
        required: false
      boot_data:
        type: string
        description: Boot customisation, inline or a package path (BootData in later releases).
        required: false
    capabilities:
      virtual_compute:
        type: tosca.capabilities.nfv.VirtualCompute
        occurrences: [1, 1]
      virtual_binding:
        type: tosca.capabilities.nfv.VirtualBindable
        occurrences: [1, UNBOUNDED]
    requirements:
      - virtual_storage:
          capability: tosca.capabilities.nfv.VirtualStorage
          relationship: tosca.relationships.nfv.AttachesTo
          occurrences: [0, UNBOUNDED]

  tosca.nodes.nfv.Vdu.VirtualBlockStorage:
    derived_from: tosca.nodes.Root
    description: A virtual block storage of a VDU.
    properties:
      virtual_block_storage_data:
        type: tosca.datatypes.nfv.VirtualBlockStorageData
        description: Block storage characteristics.
      sw_image_data:
        type: tosca.datatypes.nfv.SwImageData
        description: Image data, needed when the node has a SwImage artifact (v2.x/v3.x).
        required: false
      per_vnfc_instance:
        type: boolean
        description: Whether one storage is created per VNFC instance.
        required: false
        default: true
      nfvi_maintenance_info:
        type: tosca.datatypes.nfv.NfviMaintenanceInfo
        description: Tolerance to NFVI maintenance.
        required: false
    capabilities:
      virtual_storage:
        type: tosca.capabilities.nfv.VirtualStorage

  tosca.nodes.nfv.Vdu.VirtualObjectStorage:
    derived_from: tosca.nodes.Root
    description: A virtual object storage of a VDU.
    properties:
      virtual_object_storage_data:
        type: tosca.datatypes.nfv.VirtualObjectStorageData
        description: Object storage characteristics.
      per_vnfc_instance:
        type: boolean
        description: Whether one storage is created per VNFC instance.
        required: false
        default: true
      nfvi_maintenance_info:
        type: tosca.datatypes.nfv.NfviMaintenanceInfo
        description: Tolerance to NFVI maintenance.
        required: false
    capabilities:
      virtual_storage:
        type: tosca.capabilities.nfv.VirtualStorage

  tosca.nodes.nfv.Vdu.VirtualFileStorage:
    derived_from: tosca.nodes.Root
    description: A virtual file storage of a VDU, reached over a virtual link.
    properties:
      virtual_file_storage_data:
        type: tosca.datatypes.nfv.VirtualFileStorageData
        description: File storage characteristics.
      per_vnfc_instance:
        type: boolean
        description: Whether one storage is created per VNFC instance.
        required: false
        default: true
      nfvi_maintenance_info:
        type: tosca.datatypes.nfv.NfviMaintenanceInfo
        description: Tolerance to NFVI maintenance.
        required: false
    capabilities:
      virtual_storage:
        type: tosca.capabilities.nfv.VirtualStorage
    requirements:
      - virtual_link:
          capability: tosca.capabilities.nfv.VirtualLinkable
          relationship: tosca.relationships.nfv.VirtualLinksTo
          occurrences: [1, 1]

  tosca.nodes.nfv.VduCp:
    derived_from: tosca.nodes.nfv.Cp
    description: A connection point of a VDU towards an internal virtual link.
    properties:
      bitrate_requirement:
        type: integer
        description: Bitrate needed, in bits per second.
        required: false
        constraints:
          - greater_or_equal: 0
      virtual_network_interface_requirements:
        type: list
        description: Requirements on the virtual NIC.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.VirtualNetworkInterfaceRequirements
      order:
        type: integer
        description: Position of the NIC on the compute instance.
        required: false
        constraints:
          - greater_or_equal: 0
      vnic_type:
        type: string
        description: Kind of virtual NIC.
        required: false
        constraints:
          - valid_values: [normal, virtio, macvtap, direct, baremetal, virtio-forwarder, direct-physical, smart-nic,
              bridge, ipvlan, loopback, macvlan, ptp, vlan, host-device]
    capabilities:
      trunk_binding:
        type: tosca.capabilities.nfv.TrunkBindable
        occurrences: [0, UNBOUNDED]
    requirements:
      - virtual_link:
          capability: tosca.capabilities.nfv.VirtualLinkable
          relationship: tosca.relationships.nfv.VirtualLinksTo
          occurrences: [0, 1]
      - virtual_binding:
          capability: tosca.capabilities.nfv.VirtualBindable
          relationship: tosca.relationships.nfv.VirtualBindsTo
          occurrences: [0, 1]

  tosca.nodes.nfv.VduSubCp:
    derived_from: tosca.nodes.nfv.VduCp
    description: A subport of a trunk VduCp.
    properties:
      segmentation_type:
        type: string
        description: Encapsulation of the subport traffic.
        required: false
        constraints:
          - valid_values: [vlan, inherit]
      segmentation_id:
        type: integer
        description: Segment the subport carries.
        required: false
        constraints:
          - greater_or_equal: 0
    requirements:
      - trunk_binding:
          capability: tosca.capabilities.nfv.TrunkBindable
          relationship: tosca.relationships.nfv.TrunkBindsTo
          node: tosca.nodes.nfv.VduCp
          occurrences: [1, 1]

  tosca.nodes.nfv.VnfVirtualLink:
    derived_from: tosca.nodes.Root
    description: An internal virtual link of the VNF.
    properties:
      connectivity_type:
        type: tosca.datatypes.nfv.ConnectivityType
        description: Protocols and flow pattern of the link.
      description:
        type: string
        description: Readable purpose of the link.
        required: false
      test_access:
        type: list
        description: Test access facilities of the link.
        required: false
        entry_schema:
          type: string
          constraints:
            - valid_values: [passive_monitoring, active_loopback]
      vl_profile:
        type: tosca.datatypes.nfv.VlProfile
        description: Instantiation data of the link.
      monitoring_parameters:
        type: list
        description: Link monitoring parameters (a map keyed by id in later releases).
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.VirtualLinkMonitoringParameter
      nfvi_maintenance_info:
        type: tosca.datatypes.nfv.NfviMaintenanceInfo
        description: Tolerance to NFVI maintenance.
        required: false
      externally_managed:
        type: string
        description: Whether external management of the link is allowed or required.
        required: false
        constraints:
          - valid_values: [allowed, required]
    capabilities:
      virtual_linkable:
        type: tosca.capabilities.nfv.VirtualLinkable

  tosca.nodes.nfv.VipCp:
    derived_from: tosca.nodes.nfv.Cp
    description: A connection point carrying virtual IP addresses shared by other CPs.
    properties:
      dedicated_ip_address:
        type: boolean
        description: Whether the VIP differs from the addresses of the associated CPs.
        required: false
        default: true
      vip_function:
        type: string
        description: What the VIP is for.
        constraints:
          - valid_values: [high_availability, load_balance]
    requirements:
      - target:
          capability: tosca.capabilities.Node
          node: tosca.nodes.nfv.VduCp
          relationship: tosca.relationships.DependsOn
          occurrences: [1, UNBOUNDED]
      - virtual_link:
          capability: tosca.capabilities.nfv.VirtualLinkable
          relationship: tosca.relationships.nfv.VipVirtualLinksTo
          occurrences: [1, 1]

  tosca.nodes.nfv.VirtualCp:
    derived_from: tosca.nodes.nfv.Cp
    description: A virtual connection point giving access to a set of container VNFCs.
    properties:
      additionalServiceData:
        type: list
        description: Service data exposed to NFV-MANO.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.AdditionalServiceData
      address_pool_name_configurable:
        type: boolean
        description: Whether the MCIO accepts an address pool name.
        required: false
        default: false
    requirements:
      - target:
          capability: tosca.capabilities.Node
          node: tosca.nodes.nfv.Vdu.OsContainerDeployableUnit
          relationship: tosca.relationships.DependsOn
          occurrences: [1, UNBOUNDED]
      - virtual_link:
          capability: tosca.capabilities.nfv.VirtualLinkable
          relationship: tosca.relationships.nfv.VirtualLinksTo
          occurrences: [0, 1]

  tosca.nodes.nfv.Vdu.OsContainer:
    derived_from: tosca.nodes.Root
    description: Resources of one OS container of a container based VDU.
    properties:
      name:
        type: string
        description: Readable name of the container.
      description:
        type: string
        description: Readable description of the container.
      requested_cpu_resources:
        type: integer
        description: CPU requested, in milli-CPU.
        required: false
        constraints:
          - greater_or_equal: 0
      cpu_resource_limit:
        type: integer
        description: CPU limit, in milli-CPU.
        required: false
        constraints:
          - greater_or_equal: 0
      requested_memory_resources:
        type: scalar-unit.size
        description: Memory requested.
        required: false
      memory_resource_limit:
        type: scalar-unit.size
        description: Memory limit.
        required: false
      requested_ephemeral_storage_resources:
        type: scalar-unit.size
        description: Ephemeral storage requested.
        required: false
      ephemeral_storage_resource_limit:
        type: scalar-unit.size
        description: Ephemeral storage limit.
        required: false
      extended_resource_requests:
        type: list
        description: Extended resources requested.
        required: false
        constraints:
          - min_length: 1
        entry_schema:
          type: tosca.datatypes.nfv.ExtendedResourceData
      huge_pages_resources:
        type: list
        description: Huge pages requested, per page size.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.Hugepages
      cpu_pinning_requirements:
        type: tosca.datatypes.nfv.VirtualCpuPinning
        description: CPU pinning configuration.
        required: false
    capabilities:
      container_deployable:
        type: tosca.capabilities.nfv.ContainerDeployable
        occurrences: [1, UNBOUNDED]

  tosca.nodes.nfv.Vdu.OsContainerDeployableUnit:
    derived_from: tosca.nodes.Root
    description: A container based VDU, the set of OS containers deployed together.
    properties:
      name:
        type: string
        description: Readable name of the VDU.
      description:
        type: string
        description: Readable description of the VDU.
      logical_node:
        type: map
        description: Logical node requirements.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.LogicalNodeData
      requested_additional_capabilities:
        type: map
        description: Additional capabilities asked of the platform.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.RequestedAdditionalCapability
      nfvi_constraints:
        type: map
        description: NFVI constraints (reserved).
        required: false
        entry_schema:
          type: string
      configurable_properties:
        type: tosca.datatypes.nfv.VnfcConfigurableProperties
        description: Configurable properties; derived types refine the type.
        required: false
      vdu_profile:
        type: tosca.datatypes.nfv.VduProfile
        description: Instance bounds of the VDU.
      mcio_constraint_params:
        type: list
        description: Names of the constraint parameters expected on the realising MCIOs.
        required: false
        entry_schema:
          type: string
          constraints:
            - valid_values:
                - affinity_nfvi_pop
                - affinity_zone
                - affinity_zone_group
                - affinity_nfvi_node
                - affinity_cis_node
                - anti_affinity_nfvi_pop
                - anti_affinity_zone
                - anti_affinity_zone_group
                - anti_affinity_nfvi_node
                - anti_affinity_cis_node
                - local_affinity_nfvi_pop
                - local_affinity_zone
                - local_affinity_zoneGroup
                - local_affinity_nfvi_node
                - local_affinity_cis_node
                - local_anti_affinity_nfvi_pop
                - local_anti_affinity_zone
                - local_anti_affinity_zone_group
                - local_anti_affinity_nfvi_node
                - local_anti_affinity_cis_node
                - node_additional_capability_ssd
                - node_additional_capability_dpdk
                - node_additional_capability_sriov
                - node_additional_capability_gpu
                - node_additional_capability_fpga
                - node_additional_capability_cpu_pin
                - node_capability_logical_numa
                - node_pool
      mcio_identification_data:
        type: tosca.datatypes.nfv.McioIdentificationData
        description: Name and kind of the realising MCIO.
        required: false
    capabilities:
      virtual_binding:
        type: tosca.capabilities.nfv.VirtualBindable
        occurrences: [0, UNBOUNDED]
      associable:
        type: tosca.capabilities.nfv.AssociableVdu
        occurrences: [1, 1]
    requirements:
      - virtual_storage:
          capability: tosca.capabilities.nfv.VirtualStorage
          relationship: tosca.relationships.nfv.AttachesTo
          occurrences: [0, UNBOUNDED]
      - container:
          capability: tosca.capabilities.nfv.ContainerDeployable
          relationship: tosca.relationships.nfv.DeploysTo
          occurrences: [1, UNBOUNDED]

  tosca.nodes.nfv.Mciop:
    derived_from: tosca.nodes.Root
    description: The object described by an MCIOP artifact (for example a Helm chart).
    requirements:
      - associatedVdu:
          capability: tosca.capabilities.nfv.AssociableVdu
          relationship: tosca.relationships.nfv.MciopAssociates
          node: tosca.nodes.nfv.Vdu.OsContainerDeployableUnit
          occurrences: [1, UNBOUNDED]

group_types:
  tosca.groups.nfv.PlacementGroup:
    derived_from: tosca.groups.Root
    description: VDUs, virtual links or MCIOPs an affinity or anti-affinity rule applies to.
    properties:
      description:
        type: string
        description: Readable description of the group.
    members:
      - tosca.nodes.nfv.Vdu.Compute
      - tosca.nodes.nfv.Vdu.OsContainerDeployableUnit
      - tosca.nodes.nfv.VnfVirtualLink
      - tosca.nodes.nfv.Mciop

policy_types:
  # -- instantiation levels and scaling ---------------------------------------
  tosca.policies.nfv.InstantiationLevels:
    derived_from: tosca.policies.Root
    description: The instantiation levels of a deployment flavour and the default one.
    properties:
      levels:
        type: map
        description: Levels by id.
        constraints:
          - min_length: 1
        entry_schema:
          type: tosca.datatypes.nfv.InstantiationLevel
      default_level:
        type: string
        description: Default level id; needed when there are several levels.
        required: false

  tosca.policies.nfv.VduInstantiationLevels:
    derived_from: tosca.policies.Root
    description: Number of instances of the target VDUs at each instantiation level.
    properties:
      levels:
        type: map
        description: Per level id, the VDU instance count.
        constraints:
          - min_length: 1
        entry_schema:
          type: tosca.datatypes.nfv.VduLevel
    targets: [tosca.nodes.nfv.Vdu.Compute, tosca.nodes.nfv.Vdu.OsContainerDeployableUnit]

  tosca.policies.nfv.VirtualLinkInstantiationLevels:
    derived_from: tosca.policies.Root
    description: Bitrate of the target virtual links at each instantiation level.
    properties:
      levels:
        type: map
        description: Per level id, the link bitrate.
        constraints:
          - min_length: 1
        entry_schema:
          type: tosca.datatypes.nfv.VirtualLinkBitrateLevel
    targets: [tosca.nodes.nfv.VnfVirtualLink]

  tosca.policies.nfv.VipCpInstantiationLevels:
    derived_from: tosca.policies.Root
    description: Number of instances of the target VipCps at each instantiation level.
    properties:
      levels:
        type: map
        description: Per level id, the VipCp instance count.
        constraints:
          - min_length: 1
        entry_schema:
          type: tosca.datatypes.nfv.VipCpLevel
    targets: [tosca.nodes.nfv.VipCp]

  tosca.policies.nfv.ScalingAspects:
    derived_from: tosca.policies.Root
    description: The aspects along which the VNF scales horizontally.
    properties:
      aspects:
        type: map
        description: Aspects by id.
        constraints:
          - min_length: 1
        entry_schema:
          type: tosca.datatypes.nfv.ScalingAspect

  tosca.policies.nfv.VduScalingAspectDeltas:
    derived_from: tosca.policies.Root
    description: Instance changes of the target VDUs per scaling step of an aspect.
    properties:
      aspect:
        type: string
        description: The aspect.
      deltas:
        type: map
        description: Per delta id, the instance change.
        constraints:
          - min_length: 1
        entry_schema:
          type: tosca.datatypes.nfv.VduLevel
    targets: [tosca.nodes.nfv.Vdu.Compute, tosca.nodes.nfv.Vdu.OsContainerDeployableUnit]

  tosca.policies.nfv.VirtualLinkBitrateScalingAspectDeltas:
    derived_from: tosca.policies.Root
    description: Bitrate changes of the target virtual links per scaling step of an aspect.
    properties:
      aspect:
        type: string
        description: The aspect.
      deltas:
        type: map
        description: Per delta id, the bitrate change.
        constraints:
          - min_length: 1
        entry_schema:
          type: tosca.datatypes.nfv.VirtualLinkBitrateLevel
    targets: [tosca.nodes.nfv.VnfVirtualLink]

  tosca.policies.nfv.VipCpScalingAspectDeltas:
    derived_from: tosca.policies.Root
    description: Instance changes of the target VipCps per scaling step of an aspect.
    properties:
      aspect:
        type: string
        description: The aspect.
      deltas:
        type: map
        description: Per delta id, the instance change.
        constraints:
          - min_length: 1
        entry_schema:
          type: tosca.datatypes.nfv.VipCpLevel
    targets: [tosca.nodes.nfv.VipCp]

  tosca.policies.nfv.VduInitialDelta:
    derived_from: tosca.policies.Root
    description: Instances of the target VDUs at scale level 0.
    properties:
      initial_delta:
        type: tosca.datatypes.nfv.VduLevel
        description: The initial instance count.
    targets: [tosca.nodes.nfv.Vdu.Compute, tosca.nodes.nfv.Vdu.OsContainerDeployableUnit]

  tosca.policies.nfv.VirtualLinkBitrateInitialDelta:
    derived_from: tosca.policies.Root
    description: Bitrate of the target virtual links at scale level 0.
    properties:
      initial_delta:
        type: tosca.datatypes.nfv.VirtualLinkBitrateLevel
        description: The initial bitrate.
    targets: [tosca.nodes.nfv.VnfVirtualLink]

  tosca.policies.nfv.VipCpInitialDelta:
    derived_from: tosca.policies.Root
    description: Instances of the target VipCps at scale level 0.
    properties:
      initial_delta:
        type: tosca.datatypes.nfv.VipCpLevel
        description: The initial instance count.
    targets: [tosca.nodes.nfv.VipCp]

  # -- placement and security ---------------------------------------------------
  tosca.policies.nfv.AffinityRule:
    derived_from: tosca.policies.Placement
    description: The targets are placed together within the scope.
    properties:
      scope:
        type: string
        description: Extent within which the targets are kept together.
        constraints:
          - valid_values: [nfvi_node, zone, zone_group, nfvi_pop, network_link_and_node, container_namespace,
              cis_node]
      nfvi_maintenance_group_info:
        type: tosca.datatypes.nfv.NfviMaintenanceInfo
        description: Tolerance of the group to NFVI maintenance.
        required: false
    targets:
      - tosca.nodes.nfv.Vdu.Compute
      - tosca.nodes.nfv.VnfVirtualLink
      - tosca.groups.nfv.PlacementGroup
      - tosca.nodes.nfv.Mciop
      - tosca.nodes.nfv.Vdu.OsContainerDeployableUnit

  tosca.policies.nfv.AntiAffinityRule:
    derived_from: tosca.policies.Placement
    description: The targets are kept apart within the scope.
    properties:
      scope:
        type: string
        description: Extent within which the targets are kept apart.
        constraints:
          - valid_values: [nfvi_node, zone, zone_group, nfvi_pop, network_link_and_node, container_namespace,
              cis_node]
      nfvi_maintenance_group_info:
        type: tosca.datatypes.nfv.NfviMaintenanceInfo
        description: Tolerance of the group to NFVI maintenance.
        required: false
    targets:
      - tosca.nodes.nfv.Vdu.Compute
      - tosca.nodes.nfv.VnfVirtualLink
      - tosca.groups.nfv.PlacementGroup
      - tosca.nodes.nfv.Mciop
      - tosca.nodes.nfv.Vdu.OsContainerDeployableUnit

  tosca.policies.nfv.SecurityGroupRule:
    derived_from: tosca.policies.nfv.Abstract.SecurityGroupRule
    description: A security group rule applied to the target connection points.
    targets: [tosca.nodes.nfv.VduCp, tosca.nodes.nfv.VnfExtCp, tosca.nodes.nfv.Vdu.OsContainerDeployableUnit]

  # -- interfaces, indicators, package change, LCM coordination ---------------
  tosca.policies.nfv.SupportedVnfInterface:
    derived_from: tosca.policies.Root
    description: An interface the VNF produces and the connection points it is reached through.
    properties:
      interface_name:
        type: string
        description: The interface.
        constraints:
          - valid_values: [vnf_indicator, vnf_configuration, vnf_lcm_coordination]
      details:
        type: tosca.datatypes.nfv.InterfaceDetails
        description: Endpoint details.
        required: false
    targets: [tosca.nodes.nfv.VnfExtCp, tosca.nodes.nfv.VduCp]

  tosca.policies.nfv.VnfIndicator:
    derived_from: tosca.policies.Root
    description: Base for policies reacting to a change of a VNF indicator.
    properties:
      source:
        type: string
        description: Who produces the indicator.
        constraints:
          - valid_values: [vnf, em, both_vnf_and_em]
    targets: [tosca.nodes.nfv.VNF]

  tosca.policies.nfv.VnfPackageChange:
    derived_from: tosca.policies.Root
    description: Rules for changing a VNF instance to another VNF package.
    properties:
      selector:
        type: list
        description: Source/destination VNFDs and source flavours the rules apply to.
        constraints:
          - min_length: 1
        entry_schema:
          type: tosca.datatypes.nfv.VnfPackageChangeSelector
      modification_qualifier:
        type: string
        description: Whether the destination is newer (up) or older (down).
        constraints:
          - valid_values: [up, down]
      additional_modification_description:
        type: string
        description: Further description of the change.
        required: false
      component_mappings:
        type: list
        description: Source to destination component mappings.
        required: false
        entry_schema:
          type: tosca.datatypes.nfv.VnfPackageChangeComponentMapping
      destination_flavour_id:
        type: string
        description: Deployment flavour in the destination package.
      actions:
        type: list
        description: Names of LCM coordination actions defined in this VNFD.
        required: false
        entry_schema:
          type: string
      referenced_coordination_actions:
        type: list
        description: Names of coordination actions defined elsewhere.
        required: false
        entry_schema:
          type: string
    targets: [tosca.nodes.nfv.VNF]

  tosca.policies.nfv.LcmCoordinationAction:
    derived_from: tosca.policies.Root
    description: A coordination action the VNF (or its EM) supports; applies to the whole flavour.
    properties:
      action_name:
        type: string
        description: Name of the action.
      action:
        type: tosca.datatypes.nfv.VnfLcmOpCoord
        description: The action; VNF specific types derive from VnfLcmOpCoord.

  tosca.policies.nfv.LcmCoordinationsForLcmOperation:
    derived_from: tosca.policies.Root
    description: The coordination actions associated with one LCM operation.
    properties:
      vnf_lcm_operation:
        type: string
        description: The LCM operation.
        constraints:
          - valid_values: [instantiate, scale, scale_to_level, change_flavour, terminate, heal, operate,
              change_ext_conn, modify_info, create_snapshot, revert_to_snapshot]
      actions:
        type: list
        description: Names of LCM coordination actions defined in this VNFD.
        required: false
        entry_schema:
          type: string
      referenced_coordination_actions:
        type: list
        description: Names of coordination actions defined elsewhere.
        required: false
        entry_schema:
          type: string
"""

_SOURCES: dict[str, str] = {
    COMMON_TYPES: _SOL001_COMMON,
    VNFD_TYPES: _SOL001_VNFD,
}
_TOSCA_BASE_KEY = "tosca_simple_profile"

_CACHE: dict[str, dict[str, Any]] = {}

# Older SOL001 drafts used versioned file names such as
# etsi_nfv_sol001_vnfd_2_5_1_types.yaml; they map onto the same documents.
_FILE_NAME = re.compile(r"^etsi_nfv_sol001_(common|vnfd)(?:_\d+_\d+_\d+)?_types\.yaml$")
_ETSI_FORGE_HOSTS = frozenset({"forge.etsi.org"})


def normative_import(import_ref: str) -> str | None:
    """Map an import reference to a catalogue key, or None.

    Accepted: the bare file name (``etsi_nfv_sol001_vnfd_types.yaml``), any
    relative path ending in it (``./x``, ``../Definitions/x``) and ETSI forge
    URLs such as ``https://forge.etsi.org/rep/nfv/SOL001/raw/v4.4.1/x`` (any
    release). URLs on other hosts are not treated as normative. The keys are
    :data:`COMMON_TYPES` and :data:`VNFD_TYPES`.
    """
    ref = import_ref.strip()
    if not ref:
        return None
    if "://" in ref:
        parts = urlsplit(ref)
        if (
            parts.scheme not in ("http", "https")
            or (parts.hostname or "").lower() not in _ETSI_FORGE_HOSTS
        ):
            return None
        path = parts.path
    else:
        path = ref.replace("\\", "/")
    match = _FILE_NAME.match(posixpath.basename(path))
    if match is None:
        return None
    return COMMON_TYPES if match.group(1) == "common" else VNFD_TYPES


def _clone(value: Any) -> Any:
    """Copy parsed YAML (mappings, sequences, immutable scalars); faster than deepcopy."""
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


def _parsed(key: str, text: str) -> dict[str, Any]:
    doc = _CACHE.get(key)
    if doc is None:
        import yaml  # here, not at the top: module_utils must import without PyYAML

        loaded = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        if not isinstance(loaded, dict):  # pragma: no cover - guards the constants above
            raise ValueError(f"catalogue document {key!r} is not a mapping")
        doc = loaded
        _CACHE[key] = doc
    return doc


def catalogue_document(key: str) -> dict[str, Any]:
    """The service template for a key returned by :func:`normative_import`.

    Parsed once; each call returns a fresh deep copy (about 2 ms for the VNFD types), so callers may keep or
    change it freely. Raises KeyError for an unknown key.
    """
    text = _SOURCES[key]
    clone: dict[str, Any] = _clone(_parsed(key, text))
    return clone


def tosca_base_document() -> dict[str, Any]:
    """The TOSCA Simple Profile base types every service template implicitly imports.

    A fresh deep copy on every call, like :func:`catalogue_document`.
    """
    clone: dict[str, Any] = _clone(_parsed(_TOSCA_BASE_KEY, _TOSCA_SIMPLE_PROFILE))
    return clone
