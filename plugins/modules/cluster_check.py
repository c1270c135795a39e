#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nebari.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cluster_check
short_description: Read the live cluster and report every broken reference of the platform
version_added: 0.1.0
description:
  - Reads the objects of the given namespaces with a few list calls (pods, Services, Secrets, ConfigMaps,
    PersistentVolumeClaims, Ingresses, Traefik IngressRoutes and IngressRouteTCPs of C(traefik.io/v1alpha1) and
    C(traefik.containo.us/v1alpha1) where the cluster serves them, and the nodes) and reports every problem at once,
    each naming its object.
  - C(routes) an Ingress, IngressRoute or IngressRouteTCP whose Service or port does not exist (services of kind
    C(TraefikService) are not checked; a route's C(namespace) is honoured).
  - C(references) a pod referring to a Secret, a ConfigMap or one of their keys that does not exist (env
    C(valueFrom), C(envFrom), secret and configMap volumes with their C(items), projected volumes), or to a
    PersistentVolumeClaim that does not exist. A reference marked C(optional) is not a problem. Finished pods are
    left out.
  - C(placement) a pod of one of the O(releases) on a node outside the node groups O(placement) assigns it. Pods
    of DaemonSets are left out.
  - C(load_balancers) a LoadBalancer Service without an address.
  - C(readiness) a pod of one of the O(releases) that is not Ready (pods of Jobs, finished pods and the pods users
    start, by O(user_components), are left out). A pod belongs to a release by its label
    C(app.kubernetes.io/instance) (the release's name, or C(<release>-<namespace>)) or C(release).
  - Returns every route it read in RV(routes) (entry points, host, path, Service and port), so that a caller can
    tell which paths are routed, and where.
  - Fails when there is any problem, with every problem in RV(problems) and in the message. Changes nothing.
  - Secrets are read for their keys only; no value leaves the module.
author:
  - nebari.platform maintainers (@nebari-dev)
requirements:
  - kubernetes (the python client, as for kubernetes.core)
options:
  kubeconfig:
    description:
      - Path to the kubeconfig file. Without it, the default kubeconfig (C(KUBECONFIG) or C(~/.kube/config)), then
        the in-cluster configuration.
    type: path
  context:
    description: The kubeconfig context to use; its current context when not given.
    type: str
  namespaces:
    description: The namespaces to check (the platform's, and those of its releases).
    type: list
    elements: str
    required: true
    aliases: [namespace]
  releases:
    description:
      - The Helm releases whose pods are checked for placement and readiness, each C({component, release,
        namespace}), as C(nebari.platform.component_releases) gives them.
    type: list
    elements: dict
    default: []
  placement:
    description:
      - The node groups the releases' pods must run on, C({default, components, releases}) - C(default), the node
        groups of the pods of the releases whose component is in C(components) (of every release when
        C(components) is not given); C(releases), per release component, per pod component (the pod's
        C(app.kubernetes.io/component) or C(component) label, or C(*) for the others), the node groups of its pods.
      - The stack role gives it as C(nebari_stack_placement), from the node groups its values templates select.
    type: dict
    default: {}
  node_groups:
    description: The node groups, name to C({labels}) (C(nebari_node_groups)); a node is in a group when it has all
      of the group's labels.
    type: dict
    default: {}
  stand_ins:
    description:
      - Nodes that count as members of node groups whose labels they do not carry, node name to group names. Only
        for a test bed whose one real node stands in for another group (the sandbox's C(testbed_stands_in_for));
        a real cluster has none.
    type: dict
    default: {}
  user_components:
    description: Pod components users start (JupyterLab servers, Dask schedulers and workers), left out of readiness.
    type: list
    elements: str
    default: [singleuser-server, dask-scheduler, dask-worker]
  checks:
    description: The checks to run.
    type: list
    elements: str
    choices: [routes, references, placement, load_balancers, readiness]
    default: [routes, references, placement, load_balancers, readiness]
attributes:
  check_mode:
    support: full
    description: Reads only, in check mode as outside it.
  diff_mode:
    support: none
    description: Reads only; there is nothing to compare.
  platform:
    support: full
    platforms: all
    description: Talks to the cluster's API from where it runs.
"""

EXAMPLES = r"""
- name: Report every broken reference of the platform
  nebari.platform.cluster_check:
    kubeconfig: "{{ nebari_kubeconfig }}"
    namespaces: [dev]

- name: Also hold the releases' pods to their node groups and readiness
  nebari.platform.cluster_check:
    kubeconfig: "{{ nebari_kubeconfig }}"
    namespaces: [dev, metallb-system]
    releases: "{{ nebari_stack_releases | selectattr('enabled') }}"
    placement: "{{ nebari_stack_placement }}"
    node_groups: "{{ nebari_node_groups }}"

- name: Routes and load balancers only
  nebari.platform.cluster_check:
    kubeconfig: ~/.kube/config
    context: prod
    namespaces: [dev]
    checks: [routes, load_balancers]
"""

RETURN = r"""
problems:
  description: Every problem found, each naming its object.
  returned: always
  type: list
  elements: dict
  sample:
    - check: references
      kind: Pod
      namespace: dev
      name: api-dask-gateway-5d8c9-xk2p4
      message: "Pod dev/api-dask-gateway-5d8c9-xk2p4: container gateway env JUPYTERHUB_API_TOKEN: Secret hub has no key
        hub.services.dask-gateway.apiToken"
routes:
  description:
    - Every route read (Ingresses, IngressRoutes, IngressRouteTCPs), one entry per backend, whether or not a problem
      was found - its entry points (C(null) when it names none and is served on the router's default entry points),
      host, path (C(null) for a TCP route), Traefik match rule, and the Service and port it sends to.
  returned: always
  type: list
  elements: dict
  sample:
    - kind: Ingress
      namespace: dev
      name: argo-workflows-server
      entry_points: [websecure]
      host: nebari.example.com
      path: /argo/
      match: null
      service: {namespace: dev, name: argo-workflows-server}
      port: 2746
checked:
  description: How many objects of each kind were read.
  returned: always
  type: dict
  sample: {pods: 21, services: 30, ingresses: 1, ingressroutes: 0, nodes: 5}
elapsed:
  description: Seconds spent reading the cluster and checking.
  returned: always
  type: float
  sample: 0.41
msg:
  description: No problem, or the problems, one a line.
  returned: always
  type: str
  sample: "no broken reference in dev (21 pods, 30 services, 1 ingress, 0 IngressRoutes)"
"""

import importlib.util
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.nebari.platform.plugins.module_utils import cluster_check

HAS_KUBERNETES = importlib.util.find_spec("kubernetes") is not None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            kubeconfig=dict(type="path"),
            context=dict(type="str"),
            namespaces=dict(type="list", elements="str", required=True, aliases=["namespace"]),
            releases=dict(type="list", elements="dict", default=[]),
            placement=dict(type="dict", default={}),
            node_groups=dict(type="dict", default={}),
            stand_ins=dict(type="dict", default={}),
            user_components=dict(type="list", elements="str",
                                 default=["singleuser-server", "dask-scheduler", "dask-worker"]),
            checks=dict(type="list", elements="str", choices=list(cluster_check.CHECKS),
                        default=list(cluster_check.CHECKS)),
        ),
        supports_check_mode=True,
    )
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"))
    params = module.params
    namespaces = list(dict.fromkeys(params["namespaces"]))
    started = time.monotonic()
    try:
        api = cluster_check.api_client(params["kubeconfig"], params["context"])
        objects = cluster_check.read(api, namespaces)
    except cluster_check.ReadError as exc:
        module.fail_json(msg="cannot read the cluster: %s" % exc, problems=[], checked={}, routes=[])
    except Exception as exc:  # the client raises urllib3's and others' errors as they come: say what failed
        module.fail_json(msg="cannot read the cluster: %s: %s" % (type(exc).__name__, exc), problems=[], checked={},
                         routes=[])
    problems = cluster_check.run_checks(objects, params["releases"], params["placement"], params["node_groups"],
                                        params["user_components"], params["checks"], params["stand_ins"])
    elapsed = round(time.monotonic() - started, 3)
    kinds = ("pods", "services", "secrets", "configmaps", "pvcs", "ingresses", "ingressroutes", "ingressroutetcps",
             "nodes")
    checked = {key: len(objects.get(key) or []) for key in kinds}
    result = dict(changed=False, problems=problems, checked=checked, elapsed=elapsed,
                  routes=cluster_check.describe_routes(objects))
    if problems:
        result["msg"] = "%d problem%s in %s:\n%s" % (
            len(problems), "" if len(problems) == 1 else "s", ", ".join(namespaces),
            "\n".join(p["message"] for p in problems))
        module.fail_json(**result)
    result["msg"] = "no broken reference in %s (%d pods, %d services, %d ingresses, %d IngressRoutes)" % (
        ", ".join(namespaces), checked["pods"], checked["services"], checked["ingresses"],
        checked["ingressroutes"] + checked["ingressroutetcps"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
